/**
 * Small pure formatters shared by the summary, the PR comment, annotations
 * and the job log: status symbols and words, durations, sizes, totals.
 */
import type { NodeResult, NodeStatus } from '../model.js'
import { oneLine } from './markdown.js'

/** The fixed order in which statuses are counted and listed. */
export const STATUS_ORDER: readonly NodeStatus[] = [
  'deployed',
  'dry-run',
  'failed',
  'rolled-back',
  'unhealthy',
  'unreachable',
  'timed-out',
  'skipped',
  'cancelled'
]

export const STATUS_SYMBOL: Readonly<Record<NodeStatus, string>> = {
  deployed: '✅',
  'dry-run': '🔍',
  failed: '❌',
  'rolled-back': '↩️',
  unhealthy: '🩺',
  unreachable: '📡',
  'timed-out': '⏱️',
  skipped: '⏭️',
  cancelled: '🚫'
}

/** `❌ failed` */
export function statusLabel(status: NodeStatus): string {
  return `${STATUS_SYMBOL[status]} ${status}`
}

/** `3.2 s`, `42.0 s`, `1m 04s`, `1h 02m 03s`; `—` for nothing measured. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '—'
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const totalSeconds = Math.round(ms / 1000)
  const hours = Math.floor(totalSeconds / 3600)
  const minutes = Math.floor((totalSeconds % 3600) / 60)
  const seconds = totalSeconds % 60
  const ss = `${String(seconds).padStart(2, '0')}s`
  if (hours === 0) return `${minutes}m ${ss}`
  return `${hours}h ${String(minutes).padStart(2, '0')}m ${ss}`
}

/** `512 B`, `12.3 KiB`, `4.0 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** `5 deployed · 1 failed · 1 unreachable`: non-zero counts in `STATUS_ORDER`. */
export function formatTotals(results: readonly NodeResult[]): string {
  return STATUS_ORDER.map(
    status => [status, results.filter(r => r.status === status).length] as const
  )
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`)
    .join(' · ')
}

/** The first 7 characters of a commit sha, or '' when it is not a hex sha. */
export function shortSha(sha: string): string {
  return /^[0-9a-f]{7,64}$/i.test(sha) ? sha.slice(0, 7).toLowerCase() : ''
}

/**
 * The title of the job-log group holding a node's full log. The summary and
 * the PR comment point readers at these titles, so all share this function.
 */
export function logGroupTitle(result: NodeResult): string {
  return `deploy-rs log: ${oneLine(result.node)} (${statusLabel(result.status)})`
}

/**
 * `failed at activate: <error>` — the one-line reason for a node that did
 * not succeed, without the node name.
 */
export function failureReason(result: NodeResult): string {
  const where = result.stage ? ` at ${result.stage}` : ''
  const error = result.error ? `: ${oneLine(result.error)}` : ''
  return `${result.status}${where}${error}`
}
