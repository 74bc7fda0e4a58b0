/**
 * The sections of the run report, shared by the job summary and the PR
 * comment. Pure functions of the model: same input, same Markdown.
 *
 * The report is GitHub Flavored Markdown with a little HTML
 * (`<details>`, `<summary>`, `<pre>`). Every HTML block starts on its own line
 * and is followed by a blank line, so GitHub parses Markdown between them.
 */
import type { LogFileIssue, NodeReport, NodeResult, RunContext, UnitChanges } from '../model.js'
import { isSuccess } from '../model.js'
import {
  alreadyFailedNote,
  canaryStoppedCallout,
  healthCell,
  renderUnhealthyNode
} from './health.js'
import { condenseLog } from './log-excerpt.js'
import { packagesCell, renderPackages } from './packages.js'
import { capChars, codeSpan, htmlText, mdText, preLines, safeUrl } from './markdown.js'
import {
  failureReason,
  formatBytes,
  formatDuration,
  formatTotals,
  shortSha,
  STATUS_SYMBOL
} from './format.js'

/** Caps on single untrusted values, so that one absurd value cannot fill the report. */
export const CAPS = {
  name: 200,
  profile: 100,
  profiles: 20,
  unit: 200,
  units: 200,
  error: 1000,
  shortError: 300,
  logLine: 1000
} as const

/** Journal lines shown per newly failed unit (what the check fetched). */
const HEALTH_JOURNAL_LINES = 20

/** How much detail one rendering carries; the report is rendered again with less when too big. */
export interface Detail {
  /** Log lines shown per node that did not succeed (0: none). */
  tailLines: number
  /** Dry-run unit changes: every unit, counts only, or not at all. */
  changes: 'full' | 'counts' | 'none'
  /** Nodes that did not succeed: collapsed section with log, one-line list, or nothing. */
  failures: 'logs' | 'errors' | 'none'
  /** Says what was left out when this is a reduced rendering; null for the first one. */
  trimmed: string | null
  /** Changed packages listed per node (0: counts only; null: no Packages section; default 30). */
  packagesList?: number | null
}

/** Changed packages listed per node in the most detailed rendering. */
export const PACKAGES_LIST = 30

/** What differs between the summary and the PR comment. */
export interface Variant {
  /** e.g. "GitHub's 1 MiB limit for a step summary". */
  limitText: string
  /** Lines placed before everything else (the PR comment's marker). */
  preamble: string[]
  /** Paragraph placed after everything else. */
  footer: string | null
}

/**
 * The levels of detail to try, most detailed first: fewer log lines per
 * node, then no logs, then one line per node, then only the table.
 */
export function detailLevels(firstTail: number, fewerTails: readonly number[]): Detail[] {
  const tails = [firstTail, ...fewerTails.filter(n => n < firstTail), 0].filter(
    (n, i, all) => all.indexOf(n) === i
  )
  const levels: Detail[] = tails.map((tailLines, i) => ({
    tailLines,
    changes: 'full',
    failures: 'logs',
    packagesList: tailLines > 0 ? PACKAGES_LIST : 10,
    trimmed:
      i === 0
        ? null
        : tailLines > 0
          ? `log excerpts show only the last ${tailLines} lines per node`
          : 'log excerpts were left out'
  }))
  // Long package lists shrink before anything else goes (a fleet update lists many).
  levels.push({
    tailLines: 0,
    changes: 'full',
    failures: 'logs',
    packagesList: 3,
    trimmed: `log excerpts were left out, and at most 3 changed packages are listed per node`
  })
  levels.push({
    tailLines: 0,
    changes: 'counts',
    failures: 'errors',
    packagesList: 0,
    trimmed: 'log excerpts and the list of changed units were left out'
  })
  levels.push({
    tailLines: 0,
    changes: 'none',
    failures: 'none',
    packagesList: null,
    trimmed: 'only the table of nodes is shown'
  })
  return levels
}

/** Where the full logs are, as a phrase: used by the footnote and by every trim notice. */
export function whereFullLogs(ctx: RunContext): string {
  const run = safeUrl(ctx.runUrl)
  const log = run ? `this step's log in the [workflow run](${run})` : "this step's log"
  return `at the end of ${log}, one collapsed group per node titled “deploy-rs log: ‹node› (‹status›)”, nodes that did not succeed first`
}

export function renderReport(
  ctx: RunContext,
  nodes: readonly NodeReport[],
  detail: Detail,
  variant: Variant
): string {
  const results = nodes.map(n => n.result)
  const blocks = [
    ...variant.preamble,
    renderTitle(ctx, results),
    renderHeader(ctx),
    `**Nodes:** ${formatTotals(results) || 'none'}`,
    ...renderCallouts(ctx, detail.tailLines, results),
    detail.trimmed
      ? `> [!NOTE]\n> This report was shortened to stay under ${variant.limitText}: ${detail.trimmed}. The full log of every node is ${whereFullLogs(ctx)}.`
      : null,
    renderTable(ctx, results),
    ctx.dryRun ? renderChanges(results, detail.changes) : null,
    renderPackagesSection(nodes, detail),
    renderFailures(nodes, detail),
    detail.failures === 'none' ? null : renderHealthNotes(results),
    renderLogFileIssues(nodes),
    `📜 Full logs: ${whereFullLogs(ctx)}.`,
    variant.footer
  ]
  return `${blocks.filter((b): b is string => b !== null && b !== '').join('\n\n')}\n`
}

export function renderTitle(ctx: RunContext, results: readonly NodeResult[]): string {
  const ok = results.filter(r => isSuccess(r.status)).length
  const allOk =
    results.length > 0 &&
    ok === results.length &&
    !ctx.runError &&
    !ctx.checkFailure &&
    !ctx.cancelled
  const icon = allOk ? '✅' : ctx.cancelled ? '🚫' : '❌'
  const mode = ctx.dryRun ? 'dry run' : 'deploy'
  const verb = ctx.dryRun ? 'dry-activated' : 'deployed'
  const what =
    results.length === 0
      ? `no node ${verb}`
      : `${ok} of ${results.length} ${results.length === 1 ? 'node' : 'nodes'} ${verb}`
  return `## ${icon} deploy-rs ${mode}: ${what}`
}

export function renderHeader(ctx: RunContext): string {
  const parts = [
    ctx.dryRun ? '**Dry run** (`--dry-activate`, nothing was activated)' : '**Deploy**',
    `flake ${codeSpan(capChars(ctx.flake, CAPS.name))}`
  ]
  const sha = shortSha(ctx.sha)
  if (sha) {
    const repo = safeUrl(ctx.repositoryUrl?.replace(/\/+$/, ''))
    parts.push(
      repo ? `commit [\`${sha}\`](${repo}/commit/${ctx.sha.toLowerCase()})` : `commit \`${sha}\``
    )
  }
  if (ctx.event) parts.push(`event ${codeSpan(capChars(ctx.event, CAPS.name))}`)
  if (ctx.actor) parts.push(`triggered by ${mdText(capChars(ctx.actor, CAPS.name))}`)
  return parts.join(' · ')
}

export function renderCallouts(
  ctx: RunContext,
  tailLines: number,
  results: readonly NodeResult[] = []
): string[] {
  const out: string[] = []
  if (ctx.runError) {
    out.push(
      `> [!CAUTION]\n> **The run stopped before deploying:** ${mdText(capChars(ctx.runError, CAPS.error))}`
    )
  }
  if (ctx.checkFailure) {
    out.push(
      `> [!CAUTION]\n> **\`nix flake check\` failed**, so no node was ${ctx.dryRun ? 'dry-activated' : 'deployed'}.`
    )
    const lines = tailLines > 0 ? ctx.checkFailure.slice(-tailLines) : []
    if (lines.length > 0) {
      out.push(
        `<details>\n<summary>Output of <code>nix flake check</code> (last ${lines.length} lines)</summary>\n\n<pre>\n${preLines(lines, CAPS.logLine)}\n</pre>\n\n</details>`
      )
    }
  }
  if (ctx.cancelled) {
    out.push(
      '> [!WARNING]\n> **The job was cancelled.** Nodes that were pending or running are reported as `cancelled`.'
    )
  }
  const stop = canaryStop(ctx, results)
  if (stop) out.push(canaryStoppedCallout(stop.canary, stop.skipped))
  return out
}

/** The first canary that did not succeed, and how many other nodes were skipped after it. */
function canaryStop(
  ctx: RunContext,
  results: readonly NodeResult[]
): { canary: { node: string; status: string }; skipped: number } | null {
  const canaries = new Set(ctx.canary ?? [])
  if (canaries.size === 0 || ctx.cancelled) return null
  const stopped = results.find(r => canaries.has(r.node) && !isSuccess(r.status))
  if (!stopped) return null
  const skipped = results.filter(r => !canaries.has(r.node) && r.status === 'skipped').length
  return skipped > 0 ? { canary: { node: stopped.node, status: stopped.status }, skipped } : null
}

/** Deployed nodes whose check has something to say: units already failed, or why none ran. */
export function renderHealthNotes(results: readonly NodeResult[]): string | null {
  const items = results.flatMap(r => {
    if (!isSuccess(r.status)) return []
    const already = r.health?.alreadyFailed ?? []
    const note = r.healthDetail?.note ?? null
    if (already.length === 0 && note === null) return []
    const text =
      already.length > 0
        ? alreadyFailedNote(already)
        : `${mdText(capChars(note ?? '', CAPS.shortError))}.`
    return [`- **${cell(r.node)}**: ${text}`]
  })
  if (items.length === 0) return null
  return ['### Health notes', items.join('\n')].join('\n\n')
}

function cell(text: string): string {
  return mdText(capChars(text, CAPS.name)) || '—'
}

/** True when every node has only the profile `system`: a column of `system` tells nothing. */
function onlySystemProfiles(results: readonly NodeResult[]): boolean {
  return results.every(r => r.profiles.length === 1 && r.profiles[0] === 'system')
}

/**
 * One row per node: status, node, hostname, profiles (left out when every
 * node has only `system`), duration, stage, and on dry runs the change counts.
 */
export function renderTable(ctx: RunContext, results: readonly NodeResult[]): string {
  if (results.length === 0) return ''
  const showProfiles = !onlySystemProfiles(results)
  const columns: Array<{ head: string; align: string; value: (r: NodeResult) => string }> = [
    // A no-break space keeps the symbol with its word in a narrow column.
    { head: 'Status', align: ':--', value: r => `${STATUS_SYMBOL[r.status]}&nbsp;${r.status}` },
    { head: 'Node', align: ':--', value: r => cell(r.node) },
    {
      head: 'Hostname',
      align: ':--',
      value: r => (r.hostname ? codeSpan(capChars(r.hostname, CAPS.name), { inTable: true }) : '—')
    },
    ...(showProfiles ? [{ head: 'Profiles', align: ':--', value: profileCell }] : []),
    { head: 'Duration', align: '--:', value: r => formatDuration(r.durationMs) },
    { head: 'Stage', align: ':--', value: r => r.stage ?? '—' },
    ...(showHealth(results) ? [{ head: 'Health', align: ':--', value: healthColumn }] : []),
    ...(ctx.dryRun ? [{ head: 'Would change', align: ':--', value: changeCounts }] : []),
    ...(results.some(r => r.packages !== undefined)
      ? [{ head: 'Packages', align: ':--', value: packagesColumn }]
      : [])
  ]
  const row = (cells: string[]): string => `| ${cells.join(' | ')} |`
  return [
    row(columns.map(c => c.head)),
    row(columns.map(c => c.align)),
    ...results.map(r => row(columns.map(c => c.value(r))))
  ].join('\n')
}

/** The column appears when a check ran or was asked for on some node (not on dry runs, not with `false`). */
function showHealth(results: readonly NodeResult[]): boolean {
  // Records from before health checks existed have no `health` at all.
  return results.some(r => (r.health ?? null) !== null || r.healthDetail !== undefined)
}

function healthColumn(r: NodeResult): string {
  return healthCell(r.health ?? null)
}

/**
 * The Packages cell: counts and size change; `unknown` when they could not be
 * read. No-break spaces keep `2 ↑` and `+1.1 KiB` whole; the cell wraps at `·`.
 */
function packagesColumn(r: NodeResult): string {
  return packagesCellText(r)
    .split(' · ')
    .map(part => part.replace(/ /g, '&nbsp;'))
    .join(' · ')
}

function packagesCellText(r: NodeResult): string {
  return packagesCell({
    node: r.node,
    packages: r.packages ?? null,
    note: r.packages === null ? '' : null
  })
}

/** The Packages section (report/packages.ts), at this rendering's detail. */
function renderPackagesSection(nodes: readonly NodeReport[], detail: Detail): string | null {
  const listLimit = detail.packagesList === undefined ? PACKAGES_LIST : detail.packagesList
  if (listLimit === null) return null
  const views = nodes
    .filter(n => n.result.packages !== undefined)
    .map(n => ({
      node: n.result.node,
      packages: n.result.packages ?? null,
      note: n.packagesNote ?? null
    }))
  return renderPackages(views, { listLimit }, nodes.length) || null
}

function profileCell(r: NodeResult): string {
  const profiles = r.profiles
    .slice(0, CAPS.profiles)
    .map(p => codeSpan(capChars(p, CAPS.profile), { inTable: true }))
  if (r.profiles.length > CAPS.profiles) profiles.push(`+${r.profiles.length - CAPS.profiles} more`)
  return profiles.join(', ') || '—'
}

const CHANGE_KINDS = ['stop', 'restart', 'start', 'reload'] as const

function hasChanges(c: UnitChanges): boolean {
  return c.restartSystemd || CHANGE_KINDS.some(kind => c[kind].length > 0)
}

/** `restart 2 · start 1 · restart systemd` for the table. */
export function changeCounts(r: NodeResult): string {
  if (!isSuccess(r.status)) return '—'
  const c = r.changes
  // No `would activate the configuration...` (e.g. a home-manager profile): unknown, not "none".
  if (!c) return 'unknown'
  if (!hasChanges(c)) return 'no unit changes'
  const parts: string[] = CHANGE_KINDS.filter(kind => c[kind].length > 0).map(
    kind => `${kind} ${c[kind].length}`
  )
  if (c.restartSystemd) parts.push('restart systemd')
  return parts.join(' · ')
}

function unitList(units: readonly string[]): string {
  const shown = units.slice(0, CAPS.units).map(u => codeSpan(capChars(u, CAPS.unit)))
  const more = units.length > CAPS.units ? ` and ${units.length - CAPS.units} more` : ''
  return `${shown.join(', ')}${more}`
}

/** `**a**, **b** and 3 more`: node names for one summary line, at most `CAPS.units` of them. */
function nodeList(results: readonly NodeResult[], describe?: (r: NodeResult) => string): string {
  const shown = results
    .slice(0, CAPS.units)
    .map(r => `**${cell(r.node)}**${describe ? ` (${describe(r)})` : ''}`)
  const more = results.length > CAPS.units ? ` and ${results.length - CAPS.units} more` : ''
  return `${shown.join(', ')}${more}`
}

/**
 * The dry run's unit changes: a list item per node that would change
 * something, then one line for the nodes that would change nothing, one for
 * the nodes whose dry activation printed no list (unknown, never "nothing"),
 * and one for the nodes whose dry run did not succeed.
 */
export function renderChanges(
  results: readonly NodeResult[],
  mode: Detail['changes']
): string | null {
  if (mode === 'none' || results.length === 0) return null
  const ok = results.filter(r => isSuccess(r.status))
  const changed = ok.filter(r => r.changes && hasChanges(r.changes))
  const unchanged = ok.filter(r => r.changes && !hasChanges(r.changes))
  const unreported = ok.filter(r => !r.changes)
  const failed = results.filter(r => !isSuccess(r.status))
  const items = changed.map(r => {
    const name = `**${cell(r.node)}**`
    if (mode === 'counts') return `- ${name}: ${changeCounts(r)}`
    const c = r.changes as UnitChanges
    const lines = CHANGE_KINDS.filter(kind => c[kind].length > 0).map(
      kind => `  - ${kind} ${unitList(c[kind])}`
    )
    if (c.restartSystemd) lines.push('  - restart systemd itself (`systemctl daemon-reexec`)')
    return [`- ${name} would:`, ...lines].join('\n')
  })
  const lines: string[] = []
  if (unchanged.length > 0) lines.push(`No unit changes: ${nodeList(unchanged)}.`)
  if (unreported.length > 0) {
    lines.push(
      `What would change is unknown (the dry activation printed no list of units): ${nodeList(unreported)}.`
    )
  }
  if (failed.length > 0) {
    lines.push(
      `No list of changes, because the dry run did not succeed: ${nodeList(failed, r => `${STATUS_SYMBOL[r.status]} ${r.status}${r.stage ? ` at ${r.stage}` : ''}`)}.`
    )
  }
  return [
    `### What would change (${changed.length} of ${results.length} ${results.length === 1 ? 'node' : 'nodes'})`,
    items.join('\n'),
    ...lines
  ]
    .filter(block => block !== '')
    .join('\n\n')
}

function logParagraph(node: NodeReport, shown: number, planCondensed: boolean): string {
  const notes = [
    ...(node.logBytes > 0 ? [`${formatBytes(node.logBytes)} in all`] : []),
    ...(planCondensed && shown > 0 ? ["deploy-rs's plan condensed"] : [])
  ]
  const size = notes.length > 0 ? ` (${notes.join('; ')})` : ''
  if (shown > 0) return `Last ${shown} ${shown === 1 ? 'line' : 'lines'} of the log${size}:`
  if (node.logTail.length > 0) return `Log excerpt left out to keep this report small${size}.`
  if (node.logFile === null) return 'No log: deploy-rs never ran for this node.'
  return 'deploy-rs printed nothing for this node.'
}

/**
 * Nodes whose log file does not hold their whole log (a failed write, or the
 * size cap): the full-log groups of these nodes are incomplete.
 */
export function renderLogFileIssues(nodes: readonly NodeReport[]): string | null {
  const incomplete = nodes.filter(n => n.logFileIssue)
  if (incomplete.length === 0) return null
  const anyFailed = incomplete.some(n => n.logFileIssue?.kind === 'failed')
  const items = incomplete.slice(0, CAPS.units).map(n => {
    const issue = n.logFileIssue as LogFileIssue
    const what =
      issue.kind === 'failed'
        ? `its log file could not be written (${mdText(capChars(issue.error, CAPS.shortError))}); only the first ${formatBytes(issue.keptBytes)} were kept`
        : `its log file stops at its cap of ${formatBytes(issue.capBytes)}; ${formatBytes(issue.cutBytes)} more were not kept (the file ends with the log's last lines)`
    return `> - **${cell(n.result.node)}**: ${what}`
  })
  if (incomplete.length > CAPS.units) {
    items.push(`> - and ${incomplete.length - CAPS.units} more`)
  }
  return [
    `> [!${anyFailed ? 'WARNING' : 'NOTE'}]`,
    `> **Not every full log was kept.** The results above are unaffected: the action read all of each node's output.`,
    ...items
  ].join('\n')
}

export function renderFailures(nodes: readonly NodeReport[], detail: Detail): string | null {
  const failed = nodes.filter(n => !isSuccess(n.result.status))
  if (failed.length === 0 || detail.failures === 'none') return null
  const heading = `### Nodes that did not succeed (${failed.length})`
  if (detail.failures === 'errors') {
    const items = failed.map(
      n =>
        `- ${STATUS_SYMBOL[n.result.status]} **${cell(n.result.node)}**: ${mdText(capChars(failureReason(n.result), CAPS.shortError))}`
    )
    return [heading, items.join('\n')].join('\n\n')
  }
  const sections = failed.map(n => {
    const r = n.result
    if (r.status === 'unhealthy') {
      // deploy-rs succeeded: its log says nothing about why; the check's findings do.
      return renderUnhealthyNode(
        {
          node: r.node,
          error: failureReason(r),
          health: r.health ?? null,
          journals: r.healthDetail?.journals ?? []
        },
        Math.min(detail.tailLines, HEALTH_JOURNAL_LINES)
      )
    }
    const excerpt = condenseLog(n.logTail)
    const tail = detail.tailLines > 0 ? excerpt.lines.slice(-detail.tailLines) : []
    const planCondensed = excerpt.marker !== null && tail.includes(excerpt.marker)
    const parts = [
      `<details>\n<summary>${STATUS_SYMBOL[r.status]} <strong>${htmlText(capChars(r.node, CAPS.name))}</strong> · ${htmlText(capChars(failureReason(r), CAPS.error))}</summary>`,
      logParagraph(n, tail.length, planCondensed)
    ]
    if (tail.length > 0) parts.push(`<pre>\n${preLines(tail, CAPS.logLine)}\n</pre>`)
    parts.push('</details>')
    return parts.join('\n\n')
  })
  return [heading, ...sections].join('\n\n')
}
