/**
 * Health checks in the main step's pipeline, through the `Tools` seam:
 * fake nix, keys, deploy-rs and a fake `remote` (the ssh of the checks)
 * that answers like a host's systemd, recording what ran when.
 */
import { describe, expect, it } from '@jest/globals'
import { PassThrough } from 'node:stream'
import { Cancellation } from '../../../src/cancellation.js'
import type { CommandResult, Launcher, RunCommand } from '../../../src/commands/process.js'
import { run, type Tools } from '../../../src/main.js'
import {
  ERROR,
  HOST_KEY,
  INFO,
  output,
  results,
  setInputs,
  statuses,
  stdoutLines,
  stepFailed,
  summary,
  useStep
} from './step-harness.js'

useStep({ 'skip-checks': 'true', 'health-check': 'auto', 'health-timeout': '120' })

/** How a node's host answers the checks: its failed units before and after the deploy. */
interface HostHealth {
  before: string[]
  after: string[]
}

interface World {
  events: string[]
  nodes: string[]
  /** Nodes whose deploy-rs fails. */
  failing: string[]
  health: Record<string, HostHealth>
}

function answer(script: string, host: HostHealth): Partial<CommandResult> {
  const token = /T=\W*([0-9a-f]{32})/.exec(script)?.[1] ?? ''
  const list = (units: string[]): string[] => units.map(u => `${u} loaded failed failed x`)
  if (!script.includes('is-system-running')) {
    return {
      stdout: [`${token}:failed-units`, ...list(host.before), `${token}:end 0`, ''].join('\n')
    }
  }
  const fresh = host.after.filter(unit => !host.before.includes(unit))
  return {
    stdout: [
      `${token}:state ${host.after.length > 0 ? 'degraded' : 'running'}`,
      `${token}:failed-units`,
      ...list(host.after),
      `${token}:end 0`,
      ...fresh.flatMap(unit => [
        `${token}:journal ${unit}`,
        `${unit}: it broke`,
        `${token}:journal-end`
      ]),
      ''
    ].join('\n')
  }
}

function fakeTools(world: World): Tools {
  const launch: Launcher = argv => {
    const node = argv[argv.length - 1].split('#')[1]
    world.events.push(`deploy:${node}`)
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const ok = !world.failing.includes(node)
    const exited = new Promise<{ code: number; signal: null; startError: null }>(resolve =>
      setTimeout(() => {
        stderr.write(INFO(`Activating profile \`system\` for node \`${node}\``))
        stderr.write(
          ok
            ? INFO('Deployment confirmed.')
            : ERROR(`Failed to deploy profile to node ${node}: boom`)
        )
        stdout.end()
        stderr.end()
        resolve({ code: ok ? 0 : 1, signal: null, startError: null })
      }, 5)
    )
    return { pid: undefined, stdout, stderr, exited, killGroup: () => {} }
  }
  const remote: RunCommand = async argv => {
    const node = (argv.at(-2) as string).split('@')[1].replace(/\.lan$/, '')
    const script = argv.at(-1) as string
    // The package diff's queries (readlink, path-info) are not what these tests are about.
    if (/readlink -f|path-info/.test(script)) return PACKAGES_UNKNOWN
    world.events.push(`health:${script.includes('is-system-running') ? 'after' : 'before'}:${node}`)
    const host = world.health[node] ?? { before: [], after: [] }
    return {
      code: 0,
      signal: null,
      stdout: '',
      stderr: '',
      timedOut: false,
      startError: null,
      ...answer(script, host)
    }
  }
  return {
    nix: {
      async evalDeployNodes() {
        return Object.fromEntries(
          world.nodes.map(name => [
            name,
            { hostname: `${name}.lan`, sshUser: 'root', sshOpts: [], profiles: ['system'] }
          ])
        )
      },
      async flakeCheck() {
        return { ok: true, reason: null, outputTail: [] }
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
    keyscan: async host => ({ lines: [`${host} ${HOST_KEY}`], problem: null }),
    launch,
    remote
  }
}

/** A host without nix: the package diff is unknown, which fails no node. */
const PACKAGES_UNKNOWN = {
  code: 127,
  signal: null,
  stdout: '',
  stderr: 'sh: nix: not found',
  timedOut: false,
  startError: null
}

function world(overrides: Partial<World> = {}): World {
  return { events: [], nodes: ['a', 'b', 'c'], failing: [], health: {}, ...overrides }
}

const BROKEN_AFTER: HostHealth = { before: [], after: ['nginx.service'] }

describe('health checks in the run', () => {
  it('reads the baseline right before deploy-rs and checks right after it, per node', async () => {
    const w = world()
    await run(fakeTools(w), new Cancellation())
    expect(w.events).toEqual([
      'health:before:a',
      'deploy:a',
      'health:after:a',
      'health:before:b',
      'deploy:b',
      'health:after:b',
      'health:before:c',
      'deploy:c',
      'health:after:c'
    ])
    expect(statuses()).toEqual({ a: 'deployed', b: 'deployed', c: 'deployed' })
    expect(results()[0].health).toEqual({
      ok: true,
      newlyFailed: [],
      alreadyFailed: [],
      output: ''
    })
    expect(stepFailed()).toBeUndefined()
  })

  it('makes a node with a newly failed unit unhealthy: in failed, the step fails, the summary shows the journal', async () => {
    const w = world({
      health: { b: BROKEN_AFTER, c: { before: ['old.service'], after: ['old.service'] } }
    })
    await run(fakeTools(w), new Cancellation())
    expect(statuses()).toEqual({ a: 'deployed', b: 'unhealthy', c: 'deployed' })
    expect(results()[1]).toMatchObject({
      stage: 'health',
      error: 'health check: 1 unit failed after the deploy: nginx.service',
      health: { ok: false, newlyFailed: ['nginx.service'], alreadyFailed: [] }
    })
    expect(results()[2].health).toMatchObject({ ok: true, alreadyFailed: ['old.service'] })
    expect(output('failed')).toEqual(['b'])
    expect(stepFailed()).toMatch(/b \(unhealthy\)/)
    expect(summary()).toContain('| Health |')
    expect(summary()).toContain('nginx.service: it broke')
    expect(summary()).toContain('✓ already failed: 1')
  })

  it('fail-fast counts an unhealthy node as a failure', async () => {
    setInputs({ 'fail-fast': 'true' })
    const w = world({ health: { a: BROKEN_AFTER } })
    await run(fakeTools(w), new Cancellation())
    expect(statuses()).toEqual({ a: 'unhealthy', b: 'skipped', c: 'skipped' })
    expect(w.events.filter(event => event.startsWith('deploy:'))).toEqual(['deploy:a'])
  })

  it('an unhealthy canary skips the rest, which are never contacted', async () => {
    setInputs({ canary: 'c' })
    const w = world({ health: { c: BROKEN_AFTER } })
    await run(fakeTools(w), new Cancellation())
    expect(statuses()).toEqual({ a: 'skipped', b: 'skipped', c: 'unhealthy' })
    expect(w.events).toEqual(['health:before:c', 'deploy:c', 'health:after:c'])
    expect(results()[0].error).toMatch(/canary node c ended unhealthy/)
    expect(summary()).toMatch(/The canary stopped the rollout/)
  })

  it('health-check false and dry runs run no remote command', async () => {
    setInputs({ 'health-check': 'false' })
    const off = world()
    await run(fakeTools(off), new Cancellation())
    expect(off.events.filter(event => event.startsWith('health:'))).toEqual([])
    expect(results()[0].health).toBeNull()
    expect(summary()).not.toContain('| Health |')

    setInputs({ 'health-check': 'systemd', 'dry-run': 'true' })
    const dry = world()
    await run(fakeTools(dry), new Cancellation())
    expect(dry.events.filter(event => event.startsWith('health:'))).toEqual([])
  })

  it("warns that health-check 'true' is the command true, which checks nothing", async () => {
    setInputs({ 'health-check': 'true' })
    await run(fakeTools(world()), new Cancellation())
    expect(
      stdoutLines().some(line => line.startsWith("::warning::health-check: 'true' runs"))
    ).toBe(true)
    expect(statuses()).toEqual({ a: 'deployed', b: 'deployed', c: 'deployed' })
  })

  it('does not check a node that deploy-rs did not deploy', async () => {
    const w = world({ failing: ['b'] })
    await run(fakeTools(w), new Cancellation())
    expect(w.events.filter(event => event.endsWith(':b'))).toEqual(['health:before:b', 'deploy:b'])
    expect(results()[1]).toMatchObject({ status: 'failed', health: null })
  })
})
