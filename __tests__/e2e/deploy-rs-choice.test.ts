/** Which deploy-rs the action runs when the deploy-rs input is left empty. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { runOnFleet, statuses } from '../../test-support/action/fleet-run.js'

let fleet: Fleet
let nixOnly: string

beforeAll(async () => {
  fleet = await startFleet({ nodes: [{ name: 'web' }] })
  // A PATH dir with the fleet's nix but no `deploy`.
  nixOnly = await mkdtemp(join(tmpdir(), 'dra-nix-only-'))
  await symlink(join(fleet.binDir, 'nix'), join(nixOnly, 'nix'))
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await rm(nixOnly, { recursive: true, force: true })
  await removeRunDirs()
})

const deployCalls = async (): Promise<string[][]> =>
  (await fleet.calls())
    .filter(call => call.tool === 'nix' && call.argv.includes('run'))
    .map(call => call.argv)

describe('deploy-rs auto-detection', () => {
  it('uses deploy on PATH first', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'web' } })
    expect(statuses(run)).toEqual({ web: 'deployed' })
    expect(run.main.stdout).toMatch(/deploy-rs command: deploy \(deploy on PATH/)
  }, 60_000)

  it("falls back to unpinned upstream with a warning when neither deploy nor the flake's input exists", async () => {
    const before = (await deployCalls()).length
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'web' },
      env: { PATH: `${nixOnly}:${dirname(process.execPath)}:/usr/bin:/bin` }
    })
    expect(statuses(run)).toEqual({ web: 'deployed' })
    expect(run.main.stdout).toMatch(
      /::warning::deploy-rs command: nix .* run github:serokell\/deploy-rs -- .*UNPINNED/
    )
    const calls = (await deployCalls()).slice(before)
    expect(calls).toHaveLength(1)
    expect(calls[0]).toEqual(
      expect.arrayContaining(['run', 'github:serokell/deploy-rs', '--', '--skip-checks'])
    )
  }, 60_000)

  it("runs the flake's own deploy-rs input, pinned by its lock file", async () => {
    // The fixture flake gains an input named deploy-rs (a local path flake, so nix locks it offline).
    const inputDir = join(fleet.dir, 'deploy-rs-input')
    await mkdir(inputDir, { recursive: true })
    await writeFile(join(inputDir, 'flake.nix'), '{ outputs = { self }: { }; }\n')
    const flakeFile = join(fleet.flakeDir, 'flake.nix')
    const original = await readFile(flakeFile, 'utf8')
    await writeFile(
      flakeFile,
      original
        .replace(/^\{/, `{\n  inputs.deploy-rs.url = "path:${inputDir}";`)
        .replace('outputs = { self }:', 'outputs = { self, ... }:')
    )
    try {
      const before = (await deployCalls()).length
      const run = await runOnFleet(fleet, {
        inputs: { targets: 'web' },
        env: { PATH: `${nixOnly}:${dirname(process.execPath)}:/usr/bin:/bin` }
      })
      expect(run.main.stdout).toMatch(
        /deploy-rs command: .*run --inputs-from .* deploy-rs -- \(the flake's own deploy-rs input/
      )
      expect(statuses(run)).toEqual({ web: 'deployed' })
      const calls = (await deployCalls()).slice(before)
      expect(calls[0]).toEqual(
        expect.arrayContaining(['run', '--inputs-from', fleet.flakeDir, 'deploy-rs', '--'])
      )
    } finally {
      await writeFile(flakeFile, original)
      await rm(join(fleet.flakeDir, 'flake.lock'), { force: true })
    }
  }, 60_000)
})
