/** `nix flake check` runs once before any node; when it fails, no node is touched. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { leftovers, runOnFleet, statuses } from '../../test-support/action/fleet-run.js'

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet({ nodes: [{ name: 'web' }, { name: 'db' }] })
  // A flake whose checks fail to evaluate; deploy.nodes still evaluates fine.
  const flakeFile = join(fleet.flakeDir, 'flake.nix')
  const text = await readFile(flakeFile, 'utf8')
  await writeFile(
    flakeFile,
    text.replace(
      'deploy.nodes',
      'checks.x86_64-linux.broken = throw "check failed on purpose";\n    deploy.nodes'
    )
  )
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

const deployCalls = async (): Promise<number> =>
  (await fleet.calls()).filter(c => c.tool === 'deploy').length

describe('failed flake checks', () => {
  it('skip every node, fail the step and show the check output in the summary', async () => {
    const before = await deployCalls()
    const run = await runOnFleet(fleet, { inputs: { targets: 'all' } })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ db: 'skipped', web: 'skipped' })
    for (const result of run.results)
      expect(String(result.error)).toMatch(/not started: nix flake check failed/)
    expect(run.summary).toContain('check failed on purpose')
    expect(run.main.stdout).toMatch(/::error::/)
    expect(await deployCalls()).toBe(before)
    expect(await fleet.hostLog('web')).toEqual([])
    expect(await leftovers(run.runnerTemp)).toEqual([])
  }, 60_000)

  it('are not run with skip-checks: true, and the nodes deploy', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'all', 'skip-checks': 'true' } })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ db: 'deployed', web: 'deployed' })
    const checks = (await fleet.calls()).filter(c => c.tool === 'nix' && c.argv.includes('check'))
    expect(checks).toHaveLength(1) // only the first test's
  }, 60_000)
})
