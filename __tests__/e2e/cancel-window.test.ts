/**
 * Cancellation within the runner's window, with the bundled action: on
 * cancel the runner sends SIGINT, about 7.5 s later SIGTERM, and about 2.5 s
 * after that kills the step, so the outputs and the summary must be written
 * and the step ended within those 10 s whatever it was waiting on: a
 * deploy-rs that ignores SIGTERM, one whose grandchild left its process
 * group, a key scan of a host that never answers, a GitHub API that never
 * answers. Each test cancels with one signal and checks the step ended on
 * its own, with its report, before the runner's second signal would come.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import {
  PROJECT_ROOT,
  removeRunDirs,
  type ActionRun
} from '../../test-support/action/run-action.js'
import {
  leftovers,
  runOnFleet,
  statuses,
  type FleetRunOptions
} from '../../test-support/action/fleet-run.js'
import {
  fleetProcesses,
  processesLeftAfter,
  waitUntil
} from '../../test-support/action/processes.js'
import { timingTable } from '../../test-support/action/timings.js'

/**
 * The runner's second signal comes about 7.5 s after its first, and the kill
 * 2.5 s after that: a step that reports within the window has ended before
 * the second signal.
 */
const CANCEL_WINDOW_MS = 7_500
const PROBE = join(PROJECT_ROOT, 'test-support', 'action', 'term-ignoring-deploy.mjs')

let fleet: Fleet
let scratch: string
const timings = timingTable('cancel')

beforeAll(async () => {
  fleet = await startFleet({ nodes: [{ name: 'web' }, { name: 'hole', kind: 'blackhole' }] })
  scratch = await mkdtemp(join(tmpdir(), 'cancel-window-'))
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
  await rm(scratch, { recursive: true, force: true })
  timings.print()
})

/**
 * Runs the action, sends `signal` once `ready()` holds (bounded wait), and
 * returns the run with the time from the signal to the step's exit.
 */
async function cancelWhen(
  ready: () => Promise<boolean>,
  options: FleetRunOptions,
  signal: NodeJS.Signals = 'SIGTERM'
): Promise<{ run: ActionRun; stopMs: number; reached: boolean }> {
  let pid = 0
  let startedAt = 0
  let sentAt = 0
  const running = runOnFleet(fleet, {
    timeoutMs: 60_000,
    ...options,
    onStart: p => {
      pid = p
      startedAt = Date.now()
    }
  })
  const reached = waitUntil(ready, 30_000, 50).then(ok => {
    if (ok && pid) {
      sentAt = Date.now()
      process.kill(pid, signal)
    }
    return ok
  })
  const run = await running
  return { run, reached: await reached, stopMs: startedAt + run.main.durationMs - sentAt }
}

/** The step ended on its own with its outputs and summary: what the spec promises on cancellation. */
function expectCancelledReport(run: ActionRun, nodes: Record<string, string>): void {
  expect(run.main.signal).toBeNull()
  expect(run.main.code).toBe(1)
  for (const name of ['results', 'succeeded', 'failed', 'hosts']) {
    expect(() => JSON.parse(run.outputs[name]) as unknown).not.toThrow()
  }
  expect(statuses(run)).toEqual(nodes)
  expect(run.summary).toContain('The job was cancelled')
}

const readyFile = (name: string): string => join(scratch, `${name}.ready`)
const exists = (file: string) => async () => (await readFile(file, 'utf8').catch(() => '')) !== ''

function warnings(run: ActionRun): string[] {
  return run.commands.filter(c => c.command === 'warning').map(c => c.value)
}

describe('cancelling a deploy-rs that ignores SIGTERM', () => {
  it('kills its process group after the short grace and reports within the window', async () => {
    const ready = readyFile('ignore-term')
    const { run, stopMs, reached } = await cancelWhen(exists(ready), {
      inputs: {
        targets: 'web',
        'skip-checks': 'true',
        'deploy-rs': `${process.execPath} ${PROBE}`
      },
      env: { PROBE_READY_FILE: ready },
      // Checked before any cleanup: the main step itself left nothing running.
      skipPost: true
    })
    expect(reached).toBe(true)
    expect(stopMs).toBeLessThan(CANCEL_WINDOW_MS)
    expectCancelledReport(run, { web: 'cancelled' })
    expect(run.results[0]).toMatchObject({ stage: 'activate' })
    const pids = (await readFile(ready, 'utf8')).trim().split('\n').map(Number)
    expect(pids).toHaveLength(2)
    const left = await processesLeftAfter(fleet, 500, p => !p.remote)
    expect(left).toEqual([])
    timings.record('SIGTERM, deploy-rs and its child ignore SIGTERM', 'cancelled', stopMs)
  }, 90_000)

  it('does not wait for a grandchild that left the group; the post step stops it', async () => {
    const ready = readyFile('escape')
    const { run, stopMs, reached } = await cancelWhen(exists(ready), {
      inputs: {
        targets: 'web',
        'skip-checks': 'true',
        'deploy-rs': `${process.execPath} ${PROBE}`
      },
      env: { PROBE_READY_FILE: ready, PROBE_MODE: 'escape' }
    })
    expect(reached).toBe(true)
    expect(stopMs).toBeLessThan(CANCEL_WINDOW_MS)
    expectCancelledReport(run, { web: 'cancelled' })
    expect(run.post?.code).toBe(0)
    expect(await processesLeftAfter(fleet, 2_000, p => !p.remote)).toEqual([])
    expect(await leftovers(run.runnerTemp)).toEqual([])
    timings.record('SIGTERM, a grandchild outside the group holds the output', 'cancelled', stopMs)
  }, 90_000)
})

describe('cancelling a key scan of a host that never answers', () => {
  it('stops ssh-keyscan and reports the node cancelled within the window', async () => {
    const hole = fleet.host('hole')
    const scanning = async (): Promise<boolean> =>
      (await fleetProcesses(fleet)).some(
        p => p.cmdline.startsWith('ssh-keyscan') && p.cmdline.includes(String(hole.port))
      )
    const { run, stopMs, reached } = await cancelWhen(scanning, {
      inputs: { targets: 'hole', 'skip-checks': 'true', 'keyscan-timeout': '60' },
      skipPost: true
    })
    expect(reached).toBe(true)
    expect(stopMs).toBeLessThan(CANCEL_WINDOW_MS)
    expectCancelledReport(run, { hole: 'cancelled' })
    expect(await processesLeftAfter(fleet, 500, p => !p.remote)).toEqual([])
    timings.record('SIGTERM during a 60 s key scan of a black hole', 'cancelled', stopMs)
  }, 90_000)
})

describe('cancelling while the GitHub API never answers', () => {
  let api: Server
  let apiUrl = ''
  let connections = 0
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    // Accepts connections and never answers: every API call waits.
    api = createServer(socket => {
      connections++
      sockets.add(socket)
      socket.on('error', () => undefined)
    })
    await new Promise<void>(resolve => api.listen(0, '127.0.0.1', resolve))
    const address = api.address()
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })

  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise(resolve => api.close(resolve))
  })

  it('gives up on the deployment record, skips the PR comment, and reports within the window', async () => {
    const { run, stopMs, reached } = await cancelWhen(async () => connections > 0, {
      inputs: {
        targets: 'web',
        'skip-checks': 'true',
        'dry-run': 'false',
        deployments: 'true',
        'pr-comment': 'true'
      },
      eventName: 'pull_request',
      eventPayload: { pull_request: { number: 7, head: { sha: 'f'.repeat(40) } } },
      env: { GITHUB_API_URL: apiUrl },
      skipPost: true
    })
    expect(reached).toBe(true)
    expect(stopMs).toBeLessThan(CANCEL_WINDOW_MS)
    expectCancelledReport(run, { web: 'cancelled' })
    expect(String(run.results[0].error)).toMatch(/cancelled before this node started/)
    expect(warnings(run)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^deployments: given up, because the job was cancelled/),
        expect.stringMatching(/^pr-comment: skipped, because the job was cancelled/)
      ])
    )
    expect(await processesLeftAfter(fleet, 500, p => !p.remote)).toEqual([])
    timings.record('SIGTERM while the GitHub API never answers', 'cancelled', stopMs)
  }, 90_000)
})
