/**
 * Health checks in the main step's pipeline, through the `Tools` seam:
 * fake nix, keys, deploy-rs and a fake `remote` (the ssh of the checks)
 * that answers like a host's systemd, recording what ran when.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Cancellation } from '../../../src/cancellation.js'
import type { CommandResult, Launcher, RunCommand } from '../../../src/commands/process.js'
import { run, type Tools } from '../../../src/main.js'
import type { NodeResult } from '../../../src/model.js'

const INFO = (msg: string): string => `🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m] ${msg}\n`
const ERROR = (msg: string): string => `🚀 ❌ [deploy] [\x1b[38;5;196mERROR\x1b[0m] ${msg}\n`
const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n'
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

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

const made: string[] = []
afterAll(() => made.forEach(dir => rmSync(dir, { recursive: true, force: true })))
// @actions/core keeps the first summary file it finds: one file for every test, emptied before each.
const summaryDir = mkdtempSync(join(tmpdir(), 'run-health-summary-'))
made.push(summaryDir)
const SUMMARY_FILE = join(summaryDir, 'summary')

let dir = ''
let saved: NodeJS.ProcessEnv = {}
let stdoutLines: string[] = []
const realWrite = process.stdout.write.bind(process.stdout)

function setInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs))
    process.env[`INPUT_${name.toUpperCase()}`] = value
}

beforeEach(() => {
  saved = { ...process.env }
  dir = mkdtempSync(join(tmpdir(), 'run-health-test-'))
  made.push(dir)
  for (const file of ['output', 'state']) writeFileSync(join(dir, file), '')
  writeFileSync(SUMMARY_FILE, '')
  Object.assign(process.env, {
    RUNNER_TEMP: dir,
    GITHUB_STEP_SUMMARY: SUMMARY_FILE,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state')
  })
  setInputs({
    flake: '/fake-flake',
    'ssh-private-key': KEY,
    'deploy-rs': process.execPath,
    'dry-run': 'false',
    'fail-fast': 'false',
    'skip-checks': 'true',
    parallel: '1',
    deployments: 'false',
    'pr-comment': 'false',
    'health-check': 'auto',
    'health-timeout': '120'
  })
  stdoutLines = []
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdoutLines.push(String(chunk))
    return true
  }) as typeof process.stdout.write
})

afterEach(() => {
  process.stdout.write = realWrite
  process.env = saved
  process.exitCode = undefined
})

function world(overrides: Partial<World> = {}): World {
  return { events: [], nodes: ['a', 'b', 'c'], failing: [], health: {}, ...overrides }
}

function results(): NodeResult[] {
  const text = readFileSync(join(dir, 'output'), 'utf8')
  const match = /^results<<(\S+)\n([\s\S]*?)\n\1$/m.exec(text)
  if (!match) throw new Error(`no results output in ${text}`)
  return JSON.parse(match[2]) as NodeResult[]
}
function output(name: string): unknown {
  const text = readFileSync(join(dir, 'output'), 'utf8')
  const match = new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(text)
  return match ? JSON.parse(match[2]) : undefined
}
const statuses = (): Record<string, string> =>
  Object.fromEntries(results().map(result => [result.node, result.status]))
const stepFailed = (): string | undefined => stdoutLines.find(line => line.startsWith('::error::'))
const summary = (): string => readFileSync(SUMMARY_FILE, 'utf8')

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
    expect(stdoutLines.some(line => line.startsWith("::warning::health-check: 'true' runs"))).toBe(
      true
    )
    expect(statuses()).toEqual({ a: 'deployed', b: 'deployed', c: 'deployed' })
  })

  it('does not check a node that deploy-rs did not deploy', async () => {
    const w = world({ failing: ['b'] })
    await run(fakeTools(w), new Cancellation())
    expect(w.events.filter(event => event.endsWith(':b'))).toEqual(['health:before:b', 'deploy:b'])
    expect(results()[1]).toMatchObject({ status: 'failed', health: null })
  })
})
