/**
 * What a change really changes, in the report: per node the package counts
 * (`3 ↑ · 1 + · 0 −`, closure size change) for the table, and a collapsed
 * list of the changes per node (`linux 6.6.30 → 6.6.31`), longest lists cut
 * with "and N more". A change that every node with known packages shares is
 * said once, above them ("on all 5 nodes: openssl 3.0.13 → 3.0.14"): that is
 * how a fleet update looks. A node whose packages are unknown says why; that
 * is not a failure of the node.
 *
 * Names and versions come from store path names (a few ASCII characters,
 * still escaped like any untrusted text).
 */
import type { PackageDiff } from '../packages/closure-diff.js'
import { capChars, htmlText, mdText } from './markdown.js'
import { formatBytes } from './format.js'

export interface NodePackagesView {
  node: string
  /** Null when unknown: see note, or the node never got as far as a pushed closure. */
  packages: PackageDiff | null
  /** Why the packages are unknown though the node was reached (first deploy...); null otherwise. */
  note: string | null
}

const NAME_CAP = 200
const NOTE_CAP = 300

/** One change as a line of text: `linux 6.6.30 → 6.6.31`, `+ jq 1.7.1`, `− curl 8.7.1`. */
type Change = { key: string; text: string }

function changesOf(diff: PackageDiff): Change[] {
  return [
    ...diff.upgraded.map(c => ({
      key: `u ${c.name} ${c.from} ${c.to}`,
      text: `${c.name} ${c.from} → ${c.to}`
    })),
    ...diff.downgraded.map(c => ({
      key: `d ${c.name} ${c.from} ${c.to}`,
      text: `${c.name} ${c.from} → ${c.to} (downgrade)`
    })),
    ...diff.added.map(c => ({ key: `a ${c.name} ${c.version}`, text: `+ ${c.name} ${c.version}` })),
    ...diff.removed.map(c => ({
      key: `r ${c.name} ${c.version}`,
      text: `− ${c.name} ${c.version}`
    }))
  ]
}

/** `+12.0 MiB`, `−512 B`, `±0 B`. */
export function formatSizeDelta(bytes: number): string {
  if (bytes === 0) return '±0 B'
  return `${bytes > 0 ? '+' : '−'}${formatBytes(Math.abs(bytes))}`
}

/** `3 ↑ · 1 + · 0 −` (with `1 ↓` when something was downgraded), then the size change. */
export function packageCounts(diff: PackageDiff): string {
  const parts = [`${diff.upgraded.length} ↑`]
  if (diff.downgraded.length > 0) parts.push(`${diff.downgraded.length} ↓`)
  parts.push(`${diff.added.length} +`, `${diff.removed.length} −`)
  if (diff.sizeDelta !== null) parts.push(formatSizeDelta(diff.sizeDelta))
  return parts.join(' · ')
}

/** The table's Packages cell. */
export function packagesCell(view: NodePackagesView): string {
  if (view.packages !== null) return packageCounts(view.packages)
  return view.note !== null ? 'unknown' : '—'
}

/** Markdown list items, the first `limit` of them, then "and N more". */
function listItems(changes: readonly Change[], limit: number): string {
  // `\+`: a `+` opening a list item would start a nested list
  const shown = changes.slice(0, limit).map(c => `- ${mdText(c.text).replace(/^\+/, '\\+')}`)
  if (changes.length > limit) shown.push(`- and ${changes.length - limit} more`)
  return shown.join('\n')
}

/** `a · b · c and N more` on one line. */
function inline(changes: readonly Change[], limit: number): string {
  const shown = changes.slice(0, limit).map(c => mdText(c.text))
  const more = changes.length > limit ? ` and ${changes.length - limit} more` : ''
  return `${shown.join(' · ')}${more}`
}

/** Changes every one of these diffs has (two diffs at least), in the first one's order. */
function sharedChanges(diffs: readonly PackageDiff[]): Change[] {
  if (diffs.length < 2) return []
  const [first, ...rest] = diffs.map(changesOf)
  const inEvery = rest.map(changes => new Set(changes.map(c => c.key)))
  return (first ?? []).filter(c => inEvery.every(keys => keys.has(c.key)))
}

export interface PackagesDetail {
  /** Changes listed per node (and in the shared list); 0: no lists (the table has the counts). */
  listLimit: number
}

/**
 * The Packages section: shared changes once, then per node a collapsed
 * list. Empty when no node has packages or a note.
 */
export function renderPackages(
  views: readonly NodePackagesView[],
  detail: PackagesDetail,
  totalNodes: number = views.length
): string {
  const known = views.filter(v => v.packages !== null)
  const noted = views.filter(v => v.packages === null && v.note !== null)
  if (known.length === 0 && noted.length === 0) return ''
  const blocks: string[] = ['### Packages']

  const shared = sharedChanges(known.map(v => v.packages as PackageDiff))
  const sharedKeys = new Set(shared.map(c => c.key))
  if (shared.length > 0) {
    const who =
      known.length === totalNodes
        ? `On all ${known.length} nodes`
        : `On all ${known.length} nodes whose packages are known`
    // One paragraph, not a list: a list here would merge with the per-node list below it.
    blocks.push(
      detail.listLimit > 0
        ? `**${who}:** ${inline(shared, detail.listLimit)}`
        : `**${who}:** ${shared.length} ${shared.length === 1 ? 'change' : 'changes'}`
    )
  }

  const lines: string[] = []
  for (const view of views) {
    const name = capChars(view.node, NAME_CAP)
    if (view.packages === null) {
      if (view.note !== null) {
        lines.push(
          `- **${mdText(name)}**: packages unknown: ${mdText(capChars(view.note, NOTE_CAP))}`
        )
      }
      continue
    }
    // Counts only: the table has them already.
    if (detail.listLimit === 0) continue
    const own = changesOf(view.packages).filter(c => !sharedKeys.has(c.key))
    const counts = packageCounts(view.packages)
    const total = changesOf(view.packages).length
    if (own.length === 0) {
      const what =
        total === 0
          ? 'no package changes'
          : own.length === 0
            ? `${counts}, only the changes shared by all`
            : counts
      lines.push(`- **${mdText(name)}**: ${mdText(what)}`)
      continue
    }
    if (lines.length > 0) blocks.push(lines.splice(0).join('\n'))
    blocks.push(
      `<details>\n<summary>${htmlText(name)}: ${htmlText(counts)}${shared.length > 0 ? ` (${own.length} of its own)` : ''}</summary>\n\n${listItems(own, detail.listLimit)}\n\n</details>`
    )
  }
  if (lines.length > 0) blocks.push(lines.join('\n'))
  return blocks.length > 1 ? blocks.join('\n\n') : ''
}
