/**
 * The bundled action under faults: hosts that never answer, deploy-rs that
 * hangs, dies or lies about its exit, broken flakes and missing tools,
 * cancellation, and a node that floods the log. Each test asserts the spec's
 * outcome and a bounded run time; the times are printed in one table at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { timingTable } from '../../test-support/action/timings.js'
import { leftovers, runOnFleet, statuses } from '../../test-support/action/fleet-run.js'
import { processesLeftAfter, sampleMemory, waitUntil } from '../../test-support/action/processes.js'

const MiB = 1024 * 1024
const FLOOD_BYTES = 64 * MiB
/** Per push and per activation of the slow nodes: long enough to be cancelled in the middle. */
const SLOW_MS = 4_000

let fleet: Fleet
const scratch: string[] = []
const timings = timingTable('fault')
const record = timings.record

/** The run's outputs and summary exist whatever happened. */
function expectReportWritten(run: ActionRun): void {
  for (const name of ['results', 'succeeded', 'failed', 'hosts']) {
    expect(run.outputs[name]).toBeDefined()
    expect(() => JSON.parse(run.outputs[name]) as unknown).not.toThrow()
  }
  expect(run.summary.trim()).not.toBe('')
}

function errorLines(run: ActionRun): string[] {
  return run.main.stdout.split('\n').filter(line => line.startsWith('::error'))
}

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'web' },
      { name: 'hole1', kind: 'blackhole' },
      { name: 'hole2', kind: 'blackhole' },
      { name: 'gone', kind: 'down' },
      { name: 'stuck', behaviour: 'hang' },
      { name: 'oom', behaviour: 'killed' },
      // deploy-rs before 2022-11: exit 0 after a failed (and rolled back) activation
      { name: 'oldrb', behaviour: 'activation-fails', deployRsVersion: '2022' },
      { name: 'noconfirm', behaviour: 'confirm-timeout' },
      { name: 'preswitch', behaviour: 'dry-pre-switch-fails' },
      { name: 'badinit', behaviour: 'dry-incompatible-init' },
      { name: 'flood', behaviour: 'flood', floodBytes: FLOOD_BYTES },
      { name: 'slow1', hostCostMs: SLOW_MS },
      { name: 'slow2', hostCostMs: SLOW_MS },
      { name: 'slow3', hostCostMs: SLOW_MS }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
  await Promise.all(scratch.map(dir => rm(dir, { recursive: true, force: true })))
  timings.print()
})

describe('hosts that cannot be reached', () => {
  it('reports black-hole and down hosts unreachable at keyscan, scanned in parallel, and deploys the others', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'web, hole1, hole2, gone', 'keyscan-timeout': '1', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({
      web: 'deployed',
      hole1: 'unreachable',
      hole2: 'unreachable',
      gone: 'unreachable'
    })
    for (const node of ['hole1', 'hole2', 'gone']) {
      const result = run.results.find(r => r.node === node)
      expect(result).toMatchObject({ stage: 'keyscan', exitCode: null })
      // keyscan-timeout × tries: three tries of 1 s each
      expect(String(result?.error)).toMatch(/after 3 tries of 1 s/)
    }
    // Each black hole costs 3 tries × 1 s (no back-off after a try that used its whole
    // timeout), the down host 1 s + 2 s of back-off: 9 s one after another. Scanned at
    // once, the whole run takes about one host's time.
    const sequentialMs = 3_000 + 3_000 + 3_000
    expect(run.main.durationMs).toBeGreaterThanOrEqual(2_500)
    expect(run.main.durationMs).toBeLessThan(sequentialMs * 0.75)
    expect(run.summary).toContain('| hole1 |')
    record(
      'black-hole ×2 + down host (keyscan-timeout 1, 3 tries), whole run',
      'unreachable (keyscan)',
      run.main.durationMs
    )
  }, 60_000)
})

describe('deploy-rs that hangs', () => {
  it('stops the node after host-timeout, leaves none of its processes running, and deploys the others', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'stuck, web', 'host-timeout': '0.05', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ stuck: 'timed-out', web: 'deployed' })
    const stuck = run.results.find(r => r.node === 'stuck')
    expect(stuck).toMatchObject({ stage: 'activate' })
    expect(String(stuck?.error)).toMatch(/did not finish within 3 s/)
    // 0.05 min = 3 s, then SIGTERM to the node's process group (the kill grace is a backstop).
    expect(Number(stuck?.durationMs)).toBeGreaterThanOrEqual(3_000)
    expect(Number(stuck?.durationMs)).toBeLessThan(6_000)
    expect(run.main.durationMs).toBeLessThan(15_000)
    // Nothing of the node is left: no stand-in and no ssh once the step ended, and the
    // command on the host ends (bounded) once its session is gone.
    expect(await processesLeftAfter(fleet, 0, p => !p.remote)).toEqual([])
    const settleStarted = Date.now()
    expect(await processesLeftAfter(fleet, 3_000)).toEqual([])
    const settleMs = Date.now() - settleStarted
    expect(await leftovers(run.runnerTemp)).toEqual([])
    record(
      'deploy-rs hangs (host-timeout 0.05 = 3 s), node time',
      'timed-out (activate)',
      Number(stuck?.durationMs)
    )
    record('deploy-rs hangs, whole run', 'timed-out; nothing left running', run.main.durationMs)
    record(
      'deploy-rs hangs, host-side command gone after the step ended',
      'no process left',
      settleMs
    )
  }, 60_000)
})

describe('deploy-rs that dies or misreports', () => {
  it('fails a node whose deploy-rs was killed by a signal, and never calls a rollback a success', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'oom, oldrb, noconfirm, web', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({
      oom: 'failed',
      oldrb: 'rolled-back',
      noconfirm: 'rolled-back',
      web: 'deployed'
    })
    const byNode = (node: string) => run.results.find(r => r.node === node)
    expect(byNode('oom')).toMatchObject({ stage: 'activate', exitCode: null })
    expect(String(byNode('oom')?.error)).toMatch(/killed by SIGKILL/)
    // Old deploy-rs exits 0 after rolling back: still not a success.
    expect(byNode('oldrb')).toMatchObject({ stage: 'activate', exitCode: 0 })
    expect(String(byNode('oldrb')?.error)).toMatch(/rolled back/)
    // Magic rollback: the confirmation never arrived and the host rolled itself back;
    // deploy-rs panics there (upstream #287): exit 101.
    expect(byNode('noconfirm')).toMatchObject({ stage: 'confirm', exitCode: 101 })
    expect(String(byNode('noconfirm')?.error)).toMatch(/Timeout elapsed for confirmation/)
    expect(await fleet.hostLog('noconfirm')).toContain('rollback system')
    expect(JSON.parse(run.outputs.succeeded)).toEqual(['web'])
    expect(run.main.durationMs).toBeLessThan(20_000)
    for (const node of ['oom', 'oldrb', 'noconfirm']) {
      const result = byNode(node)
      record(
        `${node === 'oom' ? 'deploy-rs SIGKILLed' : node === 'oldrb' ? 'rollback, exit 0' : 'confirmation timeout'} (node time)`,
        `${String(result?.status)} (${String(result?.stage)})`,
        Number(result?.durationMs)
      )
    }
  }, 60_000)

  it('fails dry runs whose dry activation failed although deploy-rs exited 0', async () => {
    const before = await Promise.all(['preswitch', 'badinit'].map(node => fleet.hostLog(node)))
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'preswitch, badinit, web', 'dry-run': 'true', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ preswitch: 'failed', badinit: 'failed', web: 'dry-run' })
    for (const node of ['preswitch', 'badinit']) {
      const result = run.results.find(r => r.node === node)
      expect(result).toMatchObject({ stage: 'activate', exitCode: 0, dryRun: true })
      record(
        `dry run: ${node === 'preswitch' ? 'pre-switch checks fail' : 'incompatible init'} (node time)`,
        `${String(result?.status)} (activate)`,
        Number(result?.durationMs)
      )
    }
    expect(String(run.results.find(r => r.node === 'preswitch')?.error)).toMatch(/Pre-switch check/)
    expect(String(run.results.find(r => r.node === 'badinit')?.error)).toMatch(/init.*incompatible/)
    // Nothing was activated on the hosts.
    for (const [index, node] of ['preswitch', 'badinit'].entries()) {
      const added = (await fleet.hostLog(node)).slice(before[index].length)
      expect(added.some(line => /^(activate|confirm)/.test(line))).toBe(false)
    }
    expect(run.main.durationMs).toBeLessThan(20_000)
  }, 60_000)
})

describe('a run that cannot be planned or cannot start deploy-rs', () => {
  const expectOneClearError = (run: ActionRun, problem: RegExp): void => {
    expect(run.main.code).toBe(1)
    const errors = errorLines(run)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(problem)
    expect(run.main.stdout + run.main.stderr).not.toMatch(/\n\s+at /)
    expectReportWritten(run)
    expect(run.main.durationMs).toBeLessThan(20_000)
  }

  it('names a flake that does not evaluate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dra-broken-flake-'))
    scratch.push(dir)
    await writeFile(
      join(dir, 'flake.nix'),
      '{\n  outputs = { self }: {\n    deploy.nodes = { web = ; };\n  };\n}\n'
    )
    const run = await runOnFleet(fleet, { inputs: { flake: dir } })
    expectOneClearError(
      run,
      /^::error::could not evaluate the deploy nodes of flake '[^']*dra-broken-flake-[^']*'.*syntax error/
    )
    expect(JSON.parse(run.outputs.results)).toEqual([])
    expect(JSON.parse(run.outputs.hosts)).toEqual([])
    expect(run.summary).toMatch(/could not evaluate/)
    record('flake does not evaluate', 'run error', run.main.durationMs)
  }, 60_000)

  it('names nix missing from PATH', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'dra-no-nix-'))
    scratch.push(bin)
    for (const [name, target] of Object.entries({
      node: process.execPath,
      ssh: '/usr/bin/ssh',
      'ssh-keyscan': '/usr/bin/ssh-keyscan',
      'ssh-keygen': '/usr/bin/ssh-keygen'
    })) {
      await symlink(target, join(bin, name))
    }
    const run = await runOnFleet(fleet, { inputs: { targets: 'web' }, env: { PATH: bin } })
    expectOneClearError(run, /^::error::.*nix was not found on PATH/)
    expect(JSON.parse(run.outputs.results)).toEqual([])
    expect(run.summary).toMatch(/nix was not found on PATH/)
    record('nix missing from PATH', 'run error', run.main.durationMs)
  }, 60_000)

  it('names a deploy-rs command that does not exist, once, and starts no node', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'web', 'deploy-rs': '/nonexistent/deploy', 'skip-checks': 'true' }
    })
    expectOneClearError(
      run,
      /^::error::deploy-rs: the command \/nonexistent\/deploy does not exist or is not executable/
    )
    expect(statuses(run)).toEqual({ web: 'skipped' })
    expect(JSON.parse(run.outputs.failed)).toEqual(['web'])
    expect(JSON.parse(run.outputs.hosts)).toEqual(['web'])
    expect(run.summary).toContain('/nonexistent/deploy')
    expect(await leftovers(run.runnerTemp)).toEqual([])
    record('deploy-rs command missing', 'run error; node skipped', run.main.durationMs)
  }, 60_000)
})

describe('cancellation', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops every node on ${signal}, reports running and pending nodes cancelled, and still cleans up`, async () => {
      const before = (await fleet.hostLog('slow1')).filter(line =>
        line.startsWith('activate')
      ).length
      let pid = 0
      let startedAt = 0
      const run$ = runOnFleet(fleet, {
        inputs: { targets: 'slow1, slow2, slow3', parallel: '1', 'skip-checks': 'true' },
        onStart: p => {
          pid = p
          startedAt = Date.now()
        },
        timeoutMs: 60_000
      })
      // Wait (bounded) until the first node is in its activation, then cancel the job.
      let sentAt = 0
      const activating = waitUntil(
        async () =>
          (await fleet.hostLog('slow1')).filter(line => line.startsWith('activate')).length >
          before,
        30_000,
        50
      ).then(reached => {
        if (reached && pid) {
          sentAt = Date.now()
          process.kill(pid, signal)
        }
        return reached
      })
      const run = await run$
      expect(await activating).toBe(true)
      const stopMs = startedAt + run.main.durationMs - sentAt
      expect(run.main.code).not.toBe(0)
      expect(run.main.code).not.toBeNull() // it ended on its own, with its report, not by the signal
      expect(stopMs).toBeLessThan(6_000)
      expect(statuses(run)).toEqual({ slow1: 'cancelled', slow2: 'cancelled', slow3: 'cancelled' })
      expect(run.results.find(r => r.node === 'slow1')).toMatchObject({ stage: 'activate' })
      expect(String(run.results.find(r => r.node === 'slow2')?.error)).toMatch(
        /cancelled before this node started/
      )
      expectReportWritten(run)
      expect(run.summary).toContain('| slow3 |')
      // Every local child (stand-in, ssh) is gone once the step ended.
      expect(await processesLeftAfter(fleet, 1_000, p => !p.remote)).toEqual([])
      // Pending nodes were never started.
      const calls = (await fleet.calls()).filter(c => c.tool === 'deploy')
      expect(calls.at(-1)?.argv.some(arg => arg.endsWith('#slow1'))).toBe(true)
      expect(run.post?.code).toBe(0)
      expect(await leftovers(run.runnerTemp)).toEqual([])
      record(`${signal} mid-activation, signal to step exit`, 'cancelled ×3', stopMs)
    }, 60_000)
  }
})

describe('a node that floods the log', () => {
  it("deploys, keeps the summary under 1 MiB, and keeps the action's memory bounded", async () => {
    let sampler: ReturnType<typeof sampleMemory> | null = null
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'flood', 'skip-checks': 'true' },
      onStart: pid => {
        sampler = sampleMemory(pid, 50)
      }
    })
    const memory = sampler as ReturnType<typeof sampleMemory> | null
    memory?.stop()
    const peak = memory?.peakBytes() ?? 0
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ flood: 'deployed' })
    expect(Buffer.byteLength(run.summary)).toBeLessThan(MiB)
    expect(memory?.samples()).toBeGreaterThan(0)
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThan(200 * 1000 * 1000)
    expect(run.main.durationMs).toBeLessThan(45_000)
    record(
      `flood of ${FLOOD_BYTES / MiB} MiB (peak RSS ${Math.round(peak / MiB)} MiB, summary ${Math.round(Buffer.byteLength(run.summary) / 1024)} KiB, job log ${Math.round(Buffer.byteLength(run.main.stdout) / MiB)} MiB)`,
      'deployed',
      run.main.durationMs
    )
  }, 60_000)
})
