/**
 * The verdict the bundled action reports for each way a deploy ends, against
 * the deploy-rs stand-in that prints upstream's lines (stand-in-upstream.test.ts):
 * `rolled-back` only on host-side evidence (activate-rs de-activated, [revoke]
 * lines, a confirmation that failed under magic rollback), never for deploy's
 * closing "rolled back" line alone; ssh failing at activation is `unreachable`
 * with ssh's reason; a dry run that switch-to-configuration refused is `failed`
 * with what it printed, although deploy-rs exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { runOnFleet, statuses } from '../../test-support/action/fleet-run.js'

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'web' },
      { name: 'undone', behaviour: 'activation-fails' },
      { name: 'stays', behaviour: 'activation-fails', autoRollback: false },
      { name: 'flagged', behaviour: 'activation-fails' },
      { name: 'lost', behaviour: 'ssh-lost' },
      { name: 'lostdry', behaviour: 'ssh-lost' },
      { name: 'noconfirm', behaviour: 'confirm-timeout' },
      { name: 'preswitch', behaviour: 'dry-pre-switch-fails' },
      { name: 'badinit', behaviour: 'dry-incompatible-init' },
      { name: 'notnixos', behaviour: 'dry-not-nixos' },
      { name: 'locked', behaviour: 'dry-lock-busy' },
      { name: 'v2023', behaviour: 'activation-fails', deployRsVersion: '2023' },
      { name: 'v2022', behaviour: 'activation-fails', deployRsVersion: '2022' },
      {
        name: 'v2022stays',
        behaviour: 'activation-fails',
        deployRsVersion: '2022',
        autoRollback: false
      }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

const result = (run: ActionRun, node: string): Record<string, unknown> => {
  const found = run.results.find(r => r.node === node)
  if (!found) throw new Error(`no result for ${node}`)
  return found
}

describe('an activation that fails', () => {
  it('is rolled-back when activate-rs de-activated it, failed when the host stays on the new generation', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'undone, stays, web', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ undone: 'rolled-back', stays: 'failed', web: 'deployed' })
    expect(result(run, 'undone')).toMatchObject({ stage: 'activate', exitCode: 1 })
    expect(result(run, 'stays')).toMatchObject({ stage: 'activate', exitCode: 1 })
    // deploy-rs's closing line says "rolled back" for both: only the host's lines tell.
    expect(String(result(run, 'stays').error)).not.toMatch(/rolled back/)
    expect(String(result(run, 'stays').error)).toMatch(/bad exit code/)
    expect(await fleet.hostLog('undone')).toContain('rollback system')
    expect(await fleet.hostLog('stays')).not.toContain('rollback system')
  }, 60_000)

  it("names activate-rs's own error as the cause, not the waiter's timeout that deploy-rs's orphaned waiter prints after deploy ended", async () => {
    // Upstream order (#58, #137): [activate] ERROR, deploy's lines, then 👀 [wait] ERROR
    // `Error waiting for activation: Timeout elapsed for confirmation` from the waiter
    // deploy-rs left running. That last line is a consequence, not the cause.
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'undone, stays', 'skip-checks': 'true' }
    })
    for (const node of ['undone', 'stays']) {
      const error = String(result(run, node).error)
      expect(error).toMatch(/The activation script resulted in a bad exit code: Some\(1\)/)
      expect(error).not.toMatch(/Error waiting for activation/)
    }
  }, 60_000)

  it('is failed with --auto-rollback false (no de-activation, `Failed to deploy profile to node N`)', async () => {
    const run = await runOnFleet(fleet, {
      inputs: {
        targets: 'flagged',
        'skip-checks': 'true',
        'deploy-args': '--auto-rollback false'
      }
    })
    expect(run.main.code).toBe(1)
    expect(result(run, 'flagged')).toMatchObject({
      status: 'failed',
      stage: 'activate',
      exitCode: 1
    })
    expect(String(result(run, 'flagged').error)).toMatch(/bad exit code/)
  }, 60_000)

  it('is rolled-back in the 2022-11..2024-06 wording, and before 2022-11 even with exit 0; failed there without de-activation', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'v2023, v2022, v2022stays', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({
      v2023: 'rolled-back',
      v2022: 'rolled-back',
      v2022stays: 'failed'
    })
    expect(result(run, 'v2023')).toMatchObject({ stage: 'activate', exitCode: 1 })
    expect(result(run, 'v2022')).toMatchObject({ stage: 'activate', exitCode: 0 })
    expect(result(run, 'v2022stays')).toMatchObject({ stage: 'activate', exitCode: 0 })
  }, 60_000)
})

describe('ssh failing at activation', () => {
  it("is unreachable at activate with ssh's own reason, in a real run and in a dry run", async () => {
    const [real, dry] = await Promise.all([
      runOnFleet(fleet, { inputs: { targets: 'lost', 'skip-checks': 'true' } }),
      runOnFleet(fleet, {
        inputs: { targets: 'lostdry', 'skip-checks': 'true', 'dry-run': 'true' }
      })
    ])
    for (const [run, node] of [
      [real, 'lost'],
      [dry, 'lostdry']
    ] as const) {
      expect(run.main.code).toBe(1)
      expect(result(run, node)).toMatchObject({
        status: 'unreachable',
        stage: 'activate',
        exitCode: 1
      })
      expect(String(result(run, node).error)).toMatch(/Connection refused/)
      // pushed, never activated
      expect(await fleet.hostLog(node)).toEqual([expect.stringMatching(/^push system /)])
    }
  }, 60_000)
})

describe('a confirmation that fails under magic rollback', () => {
  it('is rolled-back at confirm, whatever deploy-rs exits with (it panics: 101)', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'noconfirm', 'skip-checks': 'true' } })
    expect(run.main.code).toBe(1)
    expect(result(run, 'noconfirm')).toMatchObject({
      status: 'rolled-back',
      stage: 'confirm',
      exitCode: 101
    })
    expect(String(result(run, 'noconfirm').error)).toMatch(/Timeout elapsed for confirmation/)
  }, 60_000)
})

describe('dry runs that switch-to-configuration refused', () => {
  it('are failed with the lines they printed, although deploy-rs said `Completed dry-activate!` and exited 0', async () => {
    const run = await runOnFleet(fleet, {
      inputs: {
        targets: 'preswitch, badinit, notnixos, locked, web',
        'skip-checks': 'true',
        'dry-run': 'true'
      }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({
      preswitch: 'failed',
      badinit: 'failed',
      notnixos: 'failed',
      locked: 'failed',
      web: 'dry-run'
    })
    const printed: Record<string, RegExp> = {
      preswitch: /Pre-switch checks? .*failed/,
      badinit: /init.*incompatible with the current configuration/,
      notnixos: /This is not a NixOS installation!/,
      locked: /Could not acquire lock/
    }
    for (const [node, line] of Object.entries(printed)) {
      expect(result(run, node)).toMatchObject({ stage: 'activate', exitCode: 0, dryRun: true })
      expect(String(result(run, node).error)).toMatch(line)
      expect(String(result(run, node).error)).not.toMatch(/nothing would change/i)
    }
  }, 60_000)
})
