/**
 * Each node's log file, with the bundled action on the sandbox fleet: a log
 * file that cannot be written (a file size limit the kernel enforces, which
 * root cannot bypass) never stops the step or its report, and nodes whose
 * names sanitise alike keep separate logs.
 */
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { leftovers, runOnFleet, statuses } from '../../test-support/action/fleet-run.js'
import { processesLeftAfter } from '../../test-support/action/processes.js'

const MiB = 1024 * 1024
/**
 * RLIMIT_FSIZE of the main step: every file it (or a child) writes stops
 * growing here (EFBIG). The fleet's nix is exempted (its store database grows
 * past any such limit on a machine that has run many tests).
 */
const FILE_SIZE_LIMIT = 8 * MiB

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'web' },
      { name: 'flood', behaviour: 'flood', floodBytes: 16 * MiB },
      { name: 'a b' },
      { name: 'a_b' },
      { name: 'a/b' }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

/** The lines of each `::group::` the step printed, by node (titles are `deploy-rs log: NODE (STATUS)`). */
function logGroups(run: ActionRun): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  let current: string[] | null = null
  for (const line of run.main.stdout.split('\n')) {
    if (line.startsWith('::group::')) {
      current = []
      groups.set(line.replace(/^::group::deploy-rs log: (.*) \([^()]*\)$/, '$1'), current)
    } else if (line === '::endgroup::') current = null
    else current?.push(line)
  }
  return groups
}

describe('a log file that cannot be written', () => {
  it('keeps deploying, warns once, and still writes outputs and summary; nothing is left running', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'flood, web', 'skip-checks': 'true' },
      env: { DEPLOY_RS_STAND_IN_NIX_NO_FSIZE_LIMIT: '1' },
      // Set on the running main step before it writes any log; inherited by what it starts.
      onStart: pid => {
        const limited = spawnSync('prlimit', [`--pid=${pid}`, `--fsize=${FILE_SIZE_LIMIT}`])
        expect(limited.status).toBe(0)
      }
    })
    expect(run.main.stderr).not.toMatch(/Unhandled 'error' event|EFBIG/)
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ flood: 'deployed', web: 'deployed' })
    for (const name of ['results', 'succeeded', 'failed', 'hosts']) {
      expect(run.outputs[name]).toBeDefined()
    }
    expect(JSON.parse(run.outputs.succeeded)).toEqual(['flood', 'web'])
    // One warning, naming the node and the reason.
    const warnings = run.commands.filter(c => c.command === 'warning' && /log file/.test(c.value))
    expect(warnings).toHaveLength(1)
    expect(warnings[0].value).toMatch(/node flood could not be written \(EFBIG: file too large/)
    expect(run.summary).toContain('Not every full log was kept')
    expect(run.summary).toMatch(/\*\*flood\*\*: its log file could not be written \(EFBIG/)
    expect(run.summary).not.toMatch(/\*\*web\*\*: its log file/)
    // The file holds the head of the log, up to the limit.
    const flood = logGroups(run).get('flood') ?? []
    expect(flood.length).toBeGreaterThan(1000)
    // Every process of the run is gone once the step ended.
    expect(await processesLeftAfter(fleet, 1_000, p => !p.remote)).toEqual([])
    expect(run.post?.code).toBe(0)
    expect(await leftovers(run.runnerTemp)).toEqual([])
  }, 90_000)
})

describe('node names that sanitise alike', () => {
  it('keeps a separate log for each of `a b`, `a_b` and `a/b`', async () => {
    const names = ['a b', 'a_b', 'a/b']
    const run = await runOnFleet(fleet, {
      inputs: { targets: '"a b", a_b, "a/b"', 'skip-checks': 'true' }
    })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ 'a b': 'deployed', a_b: 'deployed', 'a/b': 'deployed' })
    const groups = logGroups(run)
    for (const name of names) {
      const lines = groups.get(name) ?? []
      const mentioned = new Set(
        lines.flatMap(line => [...line.matchAll(/for node `([^`]*)`/g)].map(m => m[1]))
      )
      expect([...mentioned]).toEqual([name])
    }
  }, 60_000)
})
