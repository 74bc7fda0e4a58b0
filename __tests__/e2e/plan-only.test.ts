/**
 * The fan-out mode and "work done once", end to end: the bundled dist/
 * entries against the sandbox fleet. plan-only evaluates the flake and writes
 * `hosts` for a `strategy.matrix`, without a key, without deploy-rs and
 * without connecting anywhere; a deploy run evaluates the inventory once and
 * checks the flake once, however many nodes it deploys.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { accessSync, constants, existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { startFleet, type Fleet, type FleetCall } from '../../test-support/fleet/index.js'
import { removeRunDirs, runAction, type ActionRun } from '../../test-support/action/run-action.js'
import { leftovers, runOnFleet, statuses } from '../../test-support/action/fleet-run.js'

const NODES = ['alpha', 'cache', 'db.lan', 'edge', 'gw', 'mail']
const TOKEN = 'ghs_planOnlyTokenThatMustNeverBePrinted01'

let fleet: Fleet
/** Holds `ssh`, `ssh-keyscan` and `ssh-keygen` wrappers that log every use, then run the real tool. */
let shimDir: string
let shimLog: string

beforeAll(async () => {
  fleet = await startFleet({
    nodes: NODES.map(name =>
      name === 'db.lan' ? { name, profiles: ['system', 'backup'] } : { name }
    )
  })
  shimDir = await mkdtemp(join(tmpdir(), 'dra-plan-only-shims-'))
  shimLog = join(shimDir, 'used.log')
  for (const tool of ['ssh', 'ssh-keyscan', 'ssh-keygen']) {
    const real = findExecutable(tool)
    const path = join(shimDir, tool)
    await writeFile(
      path,
      `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> '${shimLog}'\nexec '${real}' "$@"\n`
    )
    await chmod(path, 0o755)
  }
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
  if (shimDir) await rm(shimDir, { recursive: true, force: true })
})

/** The calls the fleet logged while `body` ran. */
async function callsDuring<T>(body: () => Promise<T>): Promise<{ result: T; calls: FleetCall[] }> {
  const before = (await fleet.calls()).length
  const result = await body()
  return { result, calls: (await fleet.calls()).slice(before) }
}

/** A plan-only run as a workflow's first job writes it: no ssh-private-key at all. */
function planOnly(targets: string): Promise<ActionRun> {
  return runAction({
    inputs: { flake: fleet.flakeDir, targets, 'plan-only': 'true', 'github-token': TOKEN },
    eventName: 'push',
    // ssh tools that log every use come first on PATH.
    env: { ...fleet.env, PATH: `${shimDir}:${fleet.binDir}:${process.env.PATH}` }
  })
}

/** The first executable `program` on PATH. */
function findExecutable(program: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, program), constants.X_OK)
      return join(dir, program)
    } catch {
      // not here
    }
  }
  throw new Error(`${program} is not on PATH`)
}

const isNix = (call: FleetCall, ...words: string[]): boolean =>
  call.tool === 'nix' && words.every(word => call.argv.includes(word))
const isFlakeCheck = (call: FleetCall): boolean => isNix(call, 'flake', 'check')
const isEval = (call: FleetCall): boolean => isNix(call, 'eval')
/** Flake targets (`FLAKE#node...`) a deploy-rs call was given. */
const targetsOf = (call: FleetCall): string[] =>
  call.argv.filter(word => word.startsWith(`${fleet.flakeDir}#`))

describe('plan-only', () => {
  it.each([
    { label: 'all', targets: 'all', hosts: NODES },
    {
      label: 'a subset, in the order written',
      targets: 'mail, alpha\n"db.lan".backup gw',
      hosts: ['mail', 'alpha', 'db.lan', 'gw']
    }
  ])(
    'resolves targets ($label) into the hosts output without a key, deploy-rs or ssh',
    async ({ targets, hosts }) => {
      const shimUseBefore = await readFile(shimLog, 'utf8').catch(() => '')
      const { result: run, calls } = await callsDuring(() => planOnly(targets))

      expect(run.main.code).toBe(0)
      // One JSON array of node names, in order: what strategy.matrix takes through fromJSON.
      expect(run.outputs.hosts).not.toContain('\n')
      expect(JSON.parse(run.outputs.hosts)).toEqual(hosts)
      expect(JSON.parse(run.outputs.succeeded)).toEqual([]) // nothing was deployed

      // One evaluation of the flake; no deploy-rs, neither directly nor through nix run.
      expect(calls.filter(isEval)).toHaveLength(1)
      expect(calls.filter(call => call.tool === 'deploy')).toEqual([])
      expect(calls.filter(call => isNix(call, 'run'))).toEqual([])
      // Never connected: no ssh tool ran, and no host saw anything.
      expect(await readFile(shimLog, 'utf8').catch(() => '')).toBe(shimUseBefore)
      for (const node of NODES) expect(await fleet.hostLog(node)).toEqual([])

      // The summary lists the planned nodes and says nothing was deployed.
      expect(run.summary).toMatch(/plan-only/)
      for (const node of hosts) expect(run.summary).toContain(node)
      for (const node of NODES.filter(n => !hosts.includes(n)))
        expect(run.summary).not.toContain(`- ${node}\n`)

      // Nothing left behind.
      expect(run.post?.code).toBe(0)
      expect(await leftovers(run.runnerTemp)).toEqual([])
      expect(existsSync(join(run.home, '.ssh'))).toBe(false)
    },
    60_000
  )

  it('(control) the logging ssh tools on PATH do see a run that is not plan-only', async () => {
    const before = await readFile(shimLog, 'utf8').catch(() => '')
    const run = await runAction({
      inputs: {
        flake: fleet.flakeDir,
        targets: 'edge',
        'ssh-private-key': fleet.clientKey.privateKeyText,
        'keyscan-timeout': '2',
        'skip-checks': 'true',
        'github-token': TOKEN
      },
      env: { ...fleet.env, PATH: `${shimDir}:${fleet.binDir}:${process.env.PATH}` }
    })
    expect(run.main.code).toBe(0)
    const used = (await readFile(shimLog, 'utf8')).slice(before.length)
    expect(used).toMatch(/^ssh-keyscan /m)
    expect(used).toMatch(/^ssh /m)
    expect((await fleet.hostLog('edge')).some(line => line.startsWith('activate'))).toBe(true)
  }, 60_000)

  it('still rejects a target that is not a node, listing the nodes', async () => {
    const { result: run, calls } = await callsDuring(() => planOnly('alpha, nosuchnode'))
    expect(run.main.code).toBe(1)
    expect(run.main.stdout).toMatch(
      /::error::.*"nosuchnode" is not a node of the flake.*alpha, cache, db\.lan, edge, gw, mail/
    )
    expect(calls.filter(call => call.tool === 'deploy')).toEqual([])
    expect(await leftovers(run.runnerTemp)).toEqual([])
  }, 60_000)
})

describe('work done once', () => {
  it('evaluates the inventory once and checks the flake once for 6 nodes, then deploys each with --skip-checks', async () => {
    const { result: run, calls } = await callsDuring(() =>
      runOnFleet(fleet, { inputs: { targets: 'all', parallel: '3' } })
    )

    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual(Object.fromEntries(NODES.map(node => [node, 'deployed'])))

    const deploys = calls.filter(call => call.tool === 'deploy')
    expect(deploys).toHaveLength(NODES.length)
    for (const call of deploys) expect(call.argv).toContain('--skip-checks')
    expect(deploys.flatMap(targetsOf).sort()).toEqual(
      NODES.map(node => `${fleet.flakeDir}#${node.includes('.') ? `"${node}"` : node}`).sort()
    )

    // Exactly one flake check in the whole run (the stand-ins were told to skip
    // theirs), made by the action before any node started.
    const firstDeploy = calls.indexOf(deploys[0])
    expect(calls.filter(isFlakeCheck)).toHaveLength(1)
    expect(calls.slice(0, firstDeploy).filter(isFlakeCheck)).toHaveLength(1)

    // The action's own nix calls are the ones before the first deploy-rs call:
    // one eval, of the inventory (node names, hostnames, ssh options: nothing
    // that forces a profile's path).
    const actionEvals = calls.slice(0, firstDeploy).filter(isEval)
    expect(actionEvals).toHaveLength(1)
    const apply = actionEvals[0].argv[actionEvals[0].argv.indexOf('--apply') + 1]
    expect(apply).toMatch(/hostname/)
    expect(apply).not.toMatch(/\.path\b/)
    // Every later eval is deploy-rs's own (one per target it was given, as
    // deploy-rs does): the action evaluated nothing more while nodes deployed.
    expect(calls.filter(isEval)).toHaveLength(
      1 + deploys.reduce((sum, call) => sum + targetsOf(call).length, 0)
    )
  }, 90_000)

  it('runs no flake check at all with skip-checks: true', async () => {
    const { result: run, calls } = await callsDuring(() =>
      runOnFleet(fleet, { inputs: { targets: 'alpha, db.lan, gw', 'skip-checks': 'true' } })
    )
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ alpha: 'deployed', 'db.lan': 'deployed', gw: 'deployed' })
    expect(calls.filter(isFlakeCheck)).toEqual([])
    const deploys = calls.filter(call => call.tool === 'deploy')
    expect(deploys).toHaveLength(3)
    for (const call of deploys) expect(call.argv).toContain('--skip-checks')
  }, 60_000)
})
