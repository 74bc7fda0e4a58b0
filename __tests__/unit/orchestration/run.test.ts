/**
 * The main step's pipeline through the `Tools` seam, without sshd or nix:
 * fake nix, ssh-keygen, ssh-keyscan and deploy-rs record what ran when.
 */
import { describe, expect, it } from '@jest/globals'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Cancellation } from '../../../src/cancellation.js'
import { NixError, type FlakeCheckResult } from '../../../src/commands/nix.js'
import type { Launcher, RunningProcess } from '../../../src/commands/process.js'
import { run, type Tools } from '../../../src/main.js'
import {
  ERROR,
  HOST_KEY,
  INFO,
  results,
  runnerTemp,
  setInputs,
  statuses,
  stepFailed,
  useStep
} from './step-harness.js'

// Health checks through Tools: __tests__/unit/orchestration/health.test.ts.
useStep({ 'health-check': 'false' })

type DeployScript = 'ok' | 'fail' | 'hang' | 'no-start'

interface World {
  /** What ran, in order: `eval`, `check:start`, `check:end`, `keyscan:HOST`, `deploy:NODE`. */
  events: string[]
  nodes: string[]
  check: FlakeCheckResult
  deploy: Record<string, DeployScript>
  /** Called when an event is recorded: the test may cancel there. */
  onEvent: (event: string) => void
  unreachable: string[]
}

function fakeTools(world: World): Tools {
  const record = (event: string): void => {
    world.events.push(event)
    world.onEvent(event)
  }
  const launch: Launcher = argv => {
    const node = argv[argv.length - 1].split('#')[1]
    record(`deploy:${node}`)
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const script = world.deploy[node] ?? 'ok'
    let finish: (code: number | null, signal: NodeJS.Signals | null) => void = () => {}
    const exited: RunningProcess['exited'] = new Promise(resolve => {
      finish = (code, signal) => {
        stdout.end()
        stderr.end()
        resolve({ code, signal, startError: null })
      }
      if (script === 'no-start') {
        const error: NodeJS.ErrnoException = new Error(`spawn ${argv[0]} ENOENT`)
        error.code = 'ENOENT'
        resolve({ code: null, signal: null, startError: error })
      }
    })
    if (script !== 'no-start') {
      stderr.write(INFO(`Activating profile \`system\` for node \`${node}\``))
      if (script !== 'hang') {
        setTimeout(() => {
          if (script === 'ok') stderr.write(INFO('Deployment confirmed.'))
          else stderr.write(ERROR(`Failed to deploy profile to node ${node}: boom`))
          finish(script === 'ok' ? 0 : 1, null)
        }, 5)
      }
    }
    return {
      pid: undefined,
      stdout,
      stderr,
      exited,
      killGroup: signal => {
        if (script === 'hang' && signal === 'SIGKILL') finish(null, signal)
      }
    }
  }
  return {
    nix: {
      async evalDeployNodes(_flake, _nixArgs, abortSignal) {
        record('eval')
        // The real nix is stopped by the cancel, and its eval fails.
        if (abortSignal?.aborted) throw new NixError('nix eval was stopped', [])
        return Object.fromEntries(
          world.nodes.map(name => [
            name,
            { hostname: `${name}.lan`, sshUser: null, sshOpts: [], profiles: ['system'] }
          ])
        )
      },
      async flakeCheck() {
        record('check:start')
        await new Promise(resolve => setTimeout(resolve, 5))
        record('check:end')
        return world.check
      },
      async hasDeployRsInput() {
        return true
      }
    },
    keygen: {
      async probe() {
        return { state: 'usable', detail: '' }
      },
      async removePassphrase() {
        return { ok: true, detail: '' }
      }
    },
    keyscan: async host => {
      record(`keyscan:${host}`)
      return world.unreachable.includes(host)
        ? { lines: [], problem: 'Connection refused' }
        : { lines: [`${host} ${HOST_KEY}`], problem: null }
    },
    launch,
    // Health checks are off here; the package diff's queries get a host without nix (unknown).
    remote: async () => ({
      code: 127,
      signal: null,
      stdout: '',
      stderr: 'sh: nix: not found',
      timedOut: false,
      startError: null
    })
  }
}

function world(overrides: Partial<World> = {}): World {
  return {
    events: [],
    nodes: ['a', 'b', 'c'],
    check: { ok: true, reason: null, outputTail: [] },
    deploy: {},
    onEvent: () => {},
    unreachable: [],
    ...overrides
  }
}

describe('the run pipeline through Tools', () => {
  it('evaluates, then checks beside the key scans, then deploys each node, all deployed', async () => {
    const w = world()
    await run(fakeTools(w), new Cancellation())
    expect(w.events[0]).toBe('eval')
    const firstDeploy = w.events.findIndex(event => event.startsWith('deploy:'))
    expect(w.events.indexOf('check:end')).toBeLessThan(firstDeploy)
    for (const host of ['a.lan', 'b.lan', 'c.lan'])
      expect(w.events.indexOf(`keyscan:${host}`)).toBeLessThan(firstDeploy)
    expect(w.events.slice(firstDeploy)).toEqual(['deploy:a', 'deploy:b', 'deploy:c'])
    expect(statuses()).toEqual({ a: 'deployed', b: 'deployed', c: 'deployed' })
    expect(stepFailed()).toBeUndefined()
  })

  it('starts no node when the flake check fails, and says why on each', async () => {
    const w = world({ check: { ok: false, reason: 'nix flake check failed', outputTail: ['x'] } })
    await run(fakeTools(w), new Cancellation())
    expect(w.events.filter(event => event.startsWith('deploy:'))).toEqual([])
    expect(results().map(r => [r.status, r.error])).toEqual(
      Array(3).fill(['skipped', 'not started: nix flake check failed'])
    )
    expect(stepFailed()).toMatch(/3 of 3 node\(s\) did not succeed/)
  })

  it('with fail-fast starts nothing after the first failed node', async () => {
    setInputs({ 'fail-fast': 'true' })
    const w = world({ deploy: { a: 'fail' } })
    await run(fakeTools(w), new Cancellation())
    expect(w.events.filter(event => event.startsWith('deploy:'))).toEqual(['deploy:a'])
    expect(statuses()).toEqual({ a: 'failed', b: 'skipped', c: 'skipped' })
    expect(results()[1].error).toMatch(/fail-fast/)
  })

  it('with fail-fast, a host without a key stops every other node before anything starts', async () => {
    setInputs({ 'fail-fast': 'true' })
    const w = world({ unreachable: ['b.lan'] })
    await run(fakeTools(w), new Cancellation())
    expect(w.events.filter(event => event.startsWith('deploy:'))).toEqual([])
    expect(statuses()).toEqual({ a: 'skipped', b: 'unreachable', c: 'skipped' })
  })

  it('reports a deploy-rs that cannot be started as failed, and goes on with the other nodes', async () => {
    const w = world({ deploy: { b: 'no-start' } })
    await run(fakeTools(w), new Cancellation())
    expect(statuses()).toEqual({ a: 'deployed', b: 'failed', c: 'deployed' })
    expect(results()[1]).toMatchObject({ stage: null, exitCode: null })
    expect(results()[1].error).toMatch(/could not start .*ENOENT/)
  })

  it('fails the run once, before any key or node, when the deploy-rs command does not exist', async () => {
    setInputs({ 'deploy-rs': join(runnerTemp(), 'no-such-deploy') })
    const w = world()
    await run(fakeTools(w), new Cancellation())
    expect(w.events).toEqual(['eval'])
    expect(results().map(r => r.status)).toEqual(['skipped', 'skipped', 'skipped'])
    expect(stepFailed()).toMatch(/deploy-rs: the command .* does not exist/)
  })

  it.each([
    ['during evaluation', 'eval', {}],
    ['during the flake check', 'check:start', { a: 'cancelled', b: 'cancelled', c: 'cancelled' }],
    ['during a key scan', 'keyscan:b.lan', { a: 'cancelled', b: 'cancelled', c: 'cancelled' }],
    ['while a node deploys', 'deploy:b', { a: 'deployed', b: 'cancelled', c: 'cancelled' }]
  ])(
    'when cancelled %s, starts nothing more and reports the rest cancelled',
    async (_when, at, expected) => {
      const cancellation = new Cancellation(200, 100)
      const w = world({
        deploy: { b: 'hang' },
        onEvent: event => {
          if (event === at) cancellation.cancel()
        }
      })
      const end = await run(fakeTools(w), cancellation)
      expect(end.cancelled).toBe(true)
      const deploys = w.events.filter(event => event.startsWith('deploy:'))
      expect(deploys).toEqual(at === 'deploy:b' ? ['deploy:a', 'deploy:b'] : [])
      expect(statuses()).toEqual(expected)
      expect(stepFailed()).toMatch(/cancelled/)
    }
  )
})

describe('the canary input through the run', () => {
  it('deploys the canary first and skips the rest when it fails, naming it', async () => {
    setInputs({ canary: 'b' })
    const w = world({ deploy: { b: 'fail' } })
    await run(fakeTools(w), new Cancellation())
    expect(w.events.filter(event => event.startsWith('deploy:'))).toEqual(['deploy:b'])
    expect(statuses()).toEqual({ a: 'skipped', b: 'failed', c: 'skipped' })
    expect(results()[0].error).toMatch(/canary node b/)
  })
})
