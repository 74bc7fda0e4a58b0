/**
 * A self-hosted runner: one machine, one RUNNER_TEMP shared by every job.
 * Two runs at once keep to their own workspaces (one's post step never
 * touches the other's), and a workspace left behind by a killed run neither
 * breaks the next run nor is removed by it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { timingTable } from '../../test-support/action/timings.js'
import { runOnFleet, statuses } from '../../test-support/action/fleet-run.js'
import { waitUntil } from '../../test-support/action/processes.js'

const PREFIX = 'deploy-rs-action-'

let fleet: Fleet
const scratch: string[] = []
const timings = timingTable('scenario')

async function workspacesIn(runnerTemp: string): Promise<string[]> {
  return (await readdir(runnerTemp).catch(() => [] as string[]))
    .filter(name => name.startsWith(PREFIX))
    .sort()
}

async function sharedTemp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dra-self-hosted-'))
  scratch.push(dir)
  return dir
}

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'quick', hostCostMs: 300 },
      { name: 'slow', hostCostMs: 2_500 },
      { name: 'web' }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
  await Promise.all(scratch.map(dir => rm(dir, { recursive: true, force: true })))
  timings.print()
})

describe('one RUNNER_TEMP, two jobs at once', () => {
  it('runs both in separate workspaces, and the first post leaves the second run alone', async () => {
    const runnerTemp = await sharedTemp()
    const env = { RUNNER_TEMP: runnerTemp }
    const started = Date.now()
    const quick$ = runOnFleet(fleet, { inputs: { targets: 'quick', 'skip-checks': 'true' }, env })
    const slow$ = runOnFleet(fleet, { inputs: { targets: 'slow', 'skip-checks': 'true' }, env })
    // Both workspaces exist side by side at some point.
    let maxSeen = 0
    const overlap = await waitUntil(
      async () => (maxSeen = Math.max(maxSeen, (await workspacesIn(runnerTemp)).length)) >= 2,
      20_000
    )
    const [quick, slow] = await Promise.all([quick$, slow$])
    const wallMs = Date.now() - started

    expect(overlap).toBe(true)
    expect(statuses(quick)).toEqual({ quick: 'deployed' })
    expect(statuses(slow)).toEqual({ slow: 'deployed' })
    expect(quick.main.code).toBe(0)
    expect(slow.main.code).toBe(0)
    // Separate workspaces, both under the shared temp dir.
    expect(quick.state.workspace).not.toBe(slow.state.workspace)
    for (const run of [quick, slow]) {
      expect(dirname(run.state.workspace)).toBe(runnerTemp)
      expect(basename(run.state.workspace)).toMatch(new RegExp(`^${PREFIX}[0-9a-f-]{36}$`))
      expect(run.post?.code).toBe(0)
    }
    // The quick run's post ran while the slow run still deployed (its main took longer than the quick run in all).
    expect(slow.main.durationMs).toBeGreaterThan(
      quick.main.durationMs + (quick.post?.durationMs ?? 0)
    )
    // Each post removed its own workspace: nothing is left.
    expect(await workspacesIn(runnerTemp)).toEqual([])
    expect(wallMs).toBeLessThan(30_000)
    timings.record(
      'two runs at once, shared RUNNER_TEMP (quick)',
      'deployed',
      quick.main.durationMs
    )
    timings.record('two runs at once, shared RUNNER_TEMP (slow)', 'deployed', slow.main.durationMs)
    timings.record('two runs at once, wall time', 'both deployed', wallMs)
  }, 40_000)
})

describe('a workspace left behind by a killed run', () => {
  it('neither breaks the next run nor is deleted by its post step', async () => {
    const runnerTemp = await sharedTemp()
    const leftover = join(runnerTemp, `${PREFIX}${randomUUID()}`)
    await mkdir(join(leftover, 'keys'), { recursive: true, mode: 0o700 })
    await mkdir(join(leftover, 'logs'), { mode: 0o700 })
    await writeFile(join(leftover, 'keys', 'key-1'), 'junk: not a key\n', { mode: 0o600 })
    await writeFile(join(leftover, 'known_hosts'), '[127.0.0.99]:22 ssh-ed25519 AAAAjunk\n', {
      mode: 0o600
    })
    await writeFile(join(leftover, 'ssh_config'), 'Host *\n  IdentityFile /nonexistent\n', {
      mode: 0o600
    })
    await writeFile(join(leftover, 'logs', 'web.log'), 'half a log of a killed run\n', {
      mode: 0o600
    })

    const run = await runOnFleet(fleet, {
      inputs: { targets: 'web', 'skip-checks': 'true' },
      env: { RUNNER_TEMP: runnerTemp }
    })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'deployed' })
    expect(run.state.workspace).not.toBe(leftover)
    expect(dirname(run.state.workspace)).toBe(runnerTemp)
    expect(run.post?.code).toBe(0)
    // Its own workspace is gone; the leftover is untouched, junk and all.
    expect(existsSync(run.state.workspace)).toBe(false)
    expect(await workspacesIn(runnerTemp)).toEqual([basename(leftover)])
    expect(await readFile(join(leftover, 'keys', 'key-1'), 'utf8')).toBe('junk: not a key\n')
    expect(await readFile(join(leftover, 'logs', 'web.log'), 'utf8')).toBe(
      'half a log of a killed run\n'
    )
    expect(run.main.durationMs).toBeLessThan(20_000)
    timings.record(
      "next run beside a killed run's leftover workspace",
      'deployed; leftover kept',
      run.main.durationMs
    )
  }, 30_000)
})
