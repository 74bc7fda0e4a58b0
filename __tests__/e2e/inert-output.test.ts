/**
 * Nothing a host, deploy-rs, nix, a flake (node names, hostnames) or the
 * inputs print can act as a workflow command. Each run's job log is read the
 * way the runner reads it (test-support/action/runner-commands.ts: lines end
 * at CR or LF, `::name::` after leading blanks, `##[name]` anywhere, the
 * stop-commands state machine), and every command found must be one of the
 * action's own: groups, masks of its secrets, the error annotation of the
 * failed node, the failure message, and its stop/resume markers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { renderFlake } from '../../test-support/fleet/flake.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { runOnFleet, statuses } from '../../test-support/action/fleet-run.js'
import { runnerCommands, type RunnerCommand } from '../../test-support/action/runner-commands.js'

/** Every injected command carries this word, so a command that carries it was injected. */
const MARK = 'PWNED'
/** Lines the host prints during activation. */
const HOST_LINES = [
  `##[error title=X]${MARK} all nodes OK`,
  '│ ##[add-mask]deployed',
  `::warning::${MARK} warning`,
  `  ::set-output name=x::${MARK}`,
  '::stop-commands::x',
  `::warning::${MARK} after a stop the host chose`,
  '::x::',
  `##[notice]${MARK} after the host's own resume`,
  `progress 50%\r::error::${MARK} after a carriage return`
]
/** Node names a flake may hold (they also show in deploy-rs's own output). */
const NAME_WARNING = `::warning::${MARK}-name`
const NAME_MASK = `web ##[add-mask]deployed ##[error]${MARK}`
const HOSTNAME = `##[error]${MARK}-host`

let fleet: Fleet
let flakeDir: string
let run: ActionRun
let hostnameRun: ActionRun

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'chatty', extraLines: HOST_LINES },
      { name: NAME_WARNING },
      { name: NAME_MASK },
      // autoRollback = false: the host stays on the failed generation, so the node is `failed`.
      { name: 'broken', behaviour: 'activation-fails', autoRollback: false }
    ]
  })
  // A flake whose only node has a hostname made of a command, its host key pinned.
  flakeDir = await mkdtemp(join(tmpdir(), 'dra-inert-flake-'))
  await writeFile(
    join(flakeDir, 'flake.nix'),
    renderFlake([
      { name: 'odd', hostname: HOSTNAME, port: 2222, sshUser: null, profiles: ['system'] }
    ])
  )
  const hostKey = (fleet.hosts[0].hostKeyLine ?? '').split(/\s+/).slice(-2).join(' ')
  ;[run, hostnameRun] = await Promise.all([
    runOnFleet(fleet, { eventName: 'push' }),
    runOnFleet(fleet, {
      eventName: 'push',
      inputs: {
        flake: flakeDir,
        'skip-checks': 'true',
        'known-hosts': `[${HOSTNAME}]:2222 ${hostKey}`,
        'host-timeout': '60'
      }
    })
  ])
}, 180_000)

afterAll(async () => {
  await fleet?.stop()
  await rm(flakeDir, { recursive: true, force: true })
  await removeRunDirs()
})

/** The command streams of a step: the runner reads stdout and stderr separately. */
function streamsOf(r: ActionRun): RunnerCommand[][] {
  return [r.main.stdout, r.main.stderr, r.post?.stdout ?? '', r.post?.stderr ?? ''].map(
    runnerCommands
  )
}

/**
 * Commands that carry injected text, other than the action's own that quote
 * it as data: the log groups, the annotations of failed nodes (title = node
 * name), and the step's failure message (core.setFailed: the last command).
 */
function injected(streams: RunnerCommand[][], failedNodes: string[]): RunnerCommand[] {
  return streams.flatMap(commands =>
    commands.filter((c, i) => {
      if (c.command === 'group' && c.line.startsWith('::group::deploy-rs log: ')) return false
      if (c.command === 'error' && c.line.startsWith('::error ')) {
        if (failedNodes.includes(c.properties.title ?? '')) return false
      }
      if (c.line.startsWith('::error::') && i === commands.length - 1) return false
      const text = `${JSON.stringify(c.properties)} ${c.data}`
      return (
        text.includes(MARK) ||
        c.command === 'set-output' ||
        (c.command === 'add-mask' && c.data === 'deployed')
      )
    })
  )
}

/** The stop tokens of a step: one, 128 bits of hex, each block closed again. */
function expectOwnMarkers(commands: RunnerCommand[]): void {
  const stops = commands.filter(c => c.command === 'stop-commands')
  expect(stops.length).toBeGreaterThan(0)
  const tokens = new Set(stops.map(c => c.data))
  expect(tokens.size).toBe(1)
  const [token] = [...tokens]
  expect(token).toMatch(/^[0-9a-f]{32}$/)
  expect(commands.filter(c => c.command === token)).toHaveLength(stops.length)
}

describe('hostile host output and node names', () => {
  it('deploys, failing only the broken node', () => {
    expect(statuses(run)).toEqual({
      chatty: 'deployed',
      [NAME_WARNING]: 'deployed',
      [NAME_MASK]: 'deployed',
      broken: 'failed'
    })
  })

  it('gives the runner no command that a host or a node name wrote', () => {
    expect(injected(streamsOf(run), ['broken']).map(c => c.line)).toEqual([])
    expectOwnMarkers(runnerCommands(run.main.stdout))
  })

  it('still shows every hostile line, and the names, as text', () => {
    for (const line of HOST_LINES.flatMap(l => l.split('\r')))
      expect(run.main.stdout).toContain(`chatty | ${line}\n`)
    expect(run.main.stdout).toContain(`${NAME_WARNING} | `)
    expect(run.main.stdout).toContain(`${NAME_MASK} | `)
  })

  it("keeps the action's own commands: the failed node's annotation, groups, masks", () => {
    const commands = runnerCommands(run.main.stdout)
    const annotations = commands.filter(c => c.command === 'error' && c.properties.title)
    expect(annotations.map(c => c.properties.title)).toEqual(['broken'])
    expect(annotations[0].data).toMatch(/^failed at activate: /)
    expect(commands.filter(c => c.command === 'error' && !c.properties.title)).toHaveLength(1)
    // Failed nodes first, then the others in plan order.
    const groups = commands.filter(c => c.command === 'group').map(c => c.data)
    expect(groups[0]).toBe('deploy-rs log: broken (❌ failed)')
    expect(groups.sort()).toEqual(
      [
        'deploy-rs log: broken (❌ failed)',
        'deploy-rs log: chatty (✅ deployed)',
        `deploy-rs log: ${NAME_WARNING} (✅ deployed)`,
        `deploy-rs log: ${NAME_MASK} (✅ deployed)`
      ].sort()
    )
    expect(commands.filter(c => c.command === 'endgroup')).toHaveLength(4)
    expect(commands.filter(c => c.command === 'add-mask').length).toBeGreaterThan(0)
  })
})

describe('a hostname made of a command', () => {
  it('gives the runner no command that the hostname wrote', () => {
    // Whatever became of the node (refused by the plan, or failed to connect), it was printed.
    expect(hostnameRun.main.stdout).toContain(HOSTNAME)
    expect(injected(streamsOf(hostnameRun), ['odd']).map(c => c.line)).toEqual([])
  })
})
