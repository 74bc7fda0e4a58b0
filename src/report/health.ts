/**
 * The health check in the report: the table's health cell, the section of
 * an unhealthy node (each newly failed unit with its journal lines), and
 * the callout when a canary stopped the rollout. Unit names, journal lines
 * and check output come from hosts: every one is escaped here.
 */
import type { HealthResult, UnitJournal } from '../model.js'
import { capChars, codeSpan, htmlText, mdText, preLines } from './markdown.js'

const CAPS = { name: 200, unit: 200, reason: 1000, line: 500, units: 10 } as const

/** ✓, `✗ 2 newly failed`, `✓ already failed: 1`, `✗` (the check itself failed), `—` (none ran). */
export function healthCell(health: HealthResult | null): string {
  if (health === null) return '—'
  const already =
    health.alreadyFailed.length > 0 ? `already failed: ${health.alreadyFailed.length}` : ''
  if (health.ok) return already ? `✓ ${already}` : '✓'
  const newly = health.newlyFailed.length > 0 ? `${health.newlyFailed.length} newly failed` : ''
  return ['✗', newly, already].filter(part => part !== '').join(' · ')
}

export interface UnhealthyNode {
  node: string
  /** Why, one line (the node's `error`). */
  error: string
  health: HealthResult | null
  /** Journals of the newly failed units (systemd check). */
  journals: readonly UnitJournal[]
}

/** Not rolled back: deploy-rs had confirmed the switch. How to go back by hand. */
export const NOT_ROLLED_BACK =
  'deploy-rs had confirmed the switch, so the node was **not rolled back**: it runs the new generation. To go back, deploy the previous commit, or run `sudo nixos-rebuild switch --rollback` on the host (NixOS `system` profile).'

/**
 * One unhealthy node: the reason, the rollback note, each newly failed unit
 * with its last journal lines (at most `journalLines` each; 0: names only),
 * or the custom check's output tail.
 */
export function renderUnhealthyNode(node: UnhealthyNode, journalLines: number): string {
  const parts = [
    `<details open>\n<summary>🩺 <strong>${htmlText(capChars(node.node, CAPS.name))}</strong> · ${htmlText(capChars(node.error, CAPS.reason))}</summary>`,
    NOT_ROLLED_BACK
  ]
  const health = node.health
  if (health && health.newlyFailed.length > 0) {
    for (const unit of health.newlyFailed.slice(0, CAPS.units)) {
      const lines = node.journals.find(journal => journal.unit === unit)?.lines ?? []
      const shown = journalLines > 0 ? lines.slice(-journalLines) : []
      parts.push(
        `**${codeSpan(capChars(unit, CAPS.unit))}** failed after the deploy${
          shown.length > 0
            ? ` · \`journalctl -u\` (last ${shown.length} line${shown.length === 1 ? '' : 's'}):`
            : journalLines > 0
              ? ' · no journal lines'
              : ''
        }`
      )
      if (shown.length > 0) parts.push(`<pre>\n${preLines(shown, CAPS.line)}\n</pre>`)
    }
    if (health.newlyFailed.length > CAPS.units) {
      parts.push(`…and ${health.newlyFailed.length - CAPS.units} more newly failed units.`)
    }
  } else if (health && health.output.trim() !== '' && journalLines > 0) {
    const lines = health.output.split('\n').slice(-journalLines)
    parts.push('Output of the check (last lines):', `<pre>\n${preLines(lines, CAPS.line)}\n</pre>`)
  }
  if (health && health.alreadyFailed.length > 0) {
    parts.push(alreadyFailedNote(health.alreadyFailed))
  }
  parts.push('</details>')
  return parts.join('\n\n')
}

/** Units that had failed before the deploy: named, not held against the node. */
export function alreadyFailedNote(units: readonly string[]): string {
  const named = units
    .slice(0, CAPS.units)
    .map(unit => codeSpan(capChars(unit, CAPS.unit)))
    .join(', ')
  const more = units.length > CAPS.units ? ` and ${units.length - CAPS.units} more` : ''
  return `Already failed before the deploy (not counted against the node): ${named}${more}.`
}

/** The header's callout when a canary stopped the rollout. */
export function canaryStoppedCallout(
  canary: { node: string; status: string },
  skipped: number
): string {
  const others = skipped === 1 ? 'the 1 other node was' : `the ${skipped} other nodes were`
  return [
    '> [!WARNING]',
    `> **The canary stopped the rollout.** Canary ${mdText(capChars(canary.node, CAPS.name))} ended \`${canary.status}\`, so ${others} not deployed (\`skipped\`).`
  ].join('\n')
}
