import { describe, expect, it } from '@jest/globals'
import { condenseLog } from '../../../src/report/log-excerpt.js'
import { renderChanges, renderTable } from '../../../src/report/sections.js'
import { renderSummary } from '../../../src/report/summary.js'
import { context, report, result, tableRows, toHtml } from './support.js'

const PLAN = [
  '🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m] The following profiles are going to be deployed:',
  '["db.lan".system]',
  'user = "root"',
  'ssh_user = "deploy"',
  'path = "/nix/store/aaaa-system"',
  'hostname = "10.0.0.2"',
  `ssh_opts = ["-F", "${'/tmp/runner/deploy-rs-action/ssh_config'.repeat(10)}"]`,
  ''
]

describe('condenseLog', () => {
  it("keeps the plan's header and profile lines and says what it left out", () => {
    const lines = [
      '🚀 ℹ️ [deploy] [INFO] Evaluating flake in .',
      ...PLAN,
      '🚀 ℹ️ [deploy] [INFO] Building profile `system` for node `db.lan`'
    ]
    const { lines: out, marker } = condenseLog(lines)
    expect(marker).toBe(
      '… 5 lines of the plan (user, ssh_user, path, hostname, ssh_opts) left out here; they are in the full log'
    )
    expect(out).toEqual([lines[0], PLAN[0], PLAN[1], marker, lines[lines.length - 1]])
  })

  it('handles several profiles, a plan at the very end and logs without a plan', () => {
    const two = [
      ...PLAN.slice(0, 7),
      '',
      '["db.lan".backup]',
      'user = "root"',
      'path = "/nix/store/bbbb-backup"'
    ]
    expect(condenseLog(two).lines).toEqual([
      PLAN[0],
      PLAN[1],
      '["db.lan".backup]',
      '… 7 lines of the plan (user, ssh_user, path, hostname, ssh_opts) left out here; they are in the full log'
    ])
    const plain = ['building', 'user = "not a plan"', '']
    expect(condenseLog(plain)).toEqual({ lines: plain, marker: null })
    // A header with nothing to leave out stays as it is.
    expect(condenseLog([PLAN[0], 'error: boom'])).toEqual({
      lines: [PLAN[0], 'error: boom'],
      marker: null
    })
  })

  it('is used by the summary, which says the plan was condensed', () => {
    const node = report({ status: 'failed', stage: 'activate', error: 'boom' }, [
      ...PLAN,
      'error: boom'
    ])
    const md = renderSummary(context(), [node])
    expect(md).toContain('Last 4 lines of the log (')
    expect(md).toContain("; deploy-rs's plan condensed):")
    expect(md).not.toContain('ssh_opts = ')
    expect(md).toContain('… 5 lines of the plan (')
  })
})

describe('renderChanges', () => {
  const changes = { stop: [], restart: ['a.service'], start: [], reload: [], restartSystemd: false }
  const none = { ...changes, restart: [] }

  it('lists each node that would change something, and one line for the others', () => {
    const md = renderChanges(
      [
        result({ node: 'a', status: 'dry-run', dryRun: true, changes }),
        result({ node: 'b', status: 'dry-run', dryRun: true, changes: none }),
        result({ node: 'c', status: 'dry-run', dryRun: true, changes: null }),
        result({ node: 'd', status: 'unreachable', stage: 'keyscan', dryRun: true })
      ],
      'full'
    )
    expect(md).toBe(
      [
        '### What would change (1 of 4 nodes)',
        '- **a** would:\n  - restart `a.service`',
        'No unit changes: **b**.',
        'What would change is unknown (the dry activation printed no list of units): **c**.',
        'No list of changes, because the dry run did not succeed: **d** (📡 unreachable at keyscan).'
      ].join('\n\n')
    )
  })

  it('says so when no node would change anything, and gives counts when asked to', () => {
    const quiet = [result({ node: 'b', status: 'dry-run', dryRun: true, changes: none })]
    expect(renderChanges(quiet, 'full')).toBe(
      '### What would change (0 of 1 node)\n\nNo unit changes: **b**.'
    )
    const md = renderChanges(
      [
        result({
          node: 'a',
          status: 'dry-run',
          dryRun: true,
          changes: { ...changes, restartSystemd: true }
        })
      ],
      'counts'
    )
    expect(md).toContain('- **a**: restart 1 · restart systemd')
    expect(renderChanges(quiet, 'none')).toBeNull()
  })

  it('caps the list of names', () => {
    const many = Array.from({ length: 250 }, (_, i) =>
      result({ node: `n${i}`, status: 'dry-run', dryRun: true, changes: none })
    )
    const md = renderChanges(many, 'full') ?? ''
    expect(md).toContain('**n199** and 50 more.')
    expect(md).not.toContain('**n200**')
  })
})

describe('renderTable', () => {
  it('leaves out the Profiles column when every node has only `system`', () => {
    const rows = tableRows(
      toHtml(renderTable(context(), [result({ node: 'a' }), result({ node: 'b' })]))
    )
    expect(rows[0]).toEqual(['Status', 'Node', 'Hostname', 'Duration', 'Stage'])
    expect(rows.slice(1).map(row => row[0])).toEqual(['✅&nbsp;deployed', '✅&nbsp;deployed'])
    const mixed = tableRows(
      toHtml(
        renderTable(context({ dryRun: true }), [
          result({ node: 'a' }),
          result({ node: 'b', profiles: ['system', 'home'] })
        ])
      )
    )
    expect(mixed[0]).toEqual([
      'Status',
      'Node',
      'Hostname',
      'Profiles',
      'Duration',
      'Stage',
      'Would change'
    ])
    expect(mixed[2][3]).toBe('<code>system</code>, <code>home</code>')
  })
})
