/**
 * Decides a node's health from what the checks read: pure functions, no I/O.
 */
import { lastLines } from '../commands/process.js'
import type { HealthResult, UnitJournal } from '../model.js'
import type { AfterReading, BeforeReading } from './systemd-check.js'

export type { HealthResult }

export interface HealthVerdict {
  /** null when no check ran (off, or `auto` on a host without systemd). */
  health: HealthResult | null
  /** Why the node is unhealthy, one line; null when it is not. */
  error: string | null
  /** The journal of each newly failed unit (not escaped: the report escapes). */
  journals: UnitJournal[]
  /** What the summary should say although nothing failed (e.g. why no check ran). */
  note: string | null
}

/** Lines kept of a check's output. */
export const OUTPUT_LINES = 40
/** Characters kept of a check's output (after the line limit). */
export const OUTPUT_CHARS = 8 * 1024
const NAMED_UNITS = 5

export const NO_CHECK: HealthVerdict = { health: null, error: null, journals: [], note: null }

/** The last lines of a text, bounded in lines and characters. */
export function outputTail(text: string): string {
  const tail = lastLines(text, OUTPUT_LINES).join('\n')
  return tail.length > OUTPUT_CHARS ? `…${tail.slice(-OUTPUT_CHARS)}` : tail
}

/** A check that could not run to its end (no connection, timeout, unreadable output). */
export function checkFailed(reason: string, output = ''): HealthVerdict {
  return {
    health: { ok: false, newlyFailed: [], alreadyFailed: [], output: outputTail(output) },
    error: `health check: ${reason}`,
    journals: [],
    note: null
  }
}

/** The host has no (running) systemd. */
export function noSystemctl(requireSystemctl: boolean): HealthVerdict {
  if (requireSystemctl) {
    return checkFailed(
      'the host has no systemctl (or systemd is not running there), and health-check is `systemd`'
    )
  }
  return { ...NO_CHECK, note: 'no systemd on the host: not checked (health-check: auto)' }
}

/** Compares the failed units after the deploy with those before. */
export function systemdVerdict(
  before: BeforeReading,
  after: AfterReading,
  requireSystemctl: boolean,
  waitSeconds: number
): HealthVerdict {
  if (before.kind === 'no-systemctl') return noSystemctl(requireSystemctl)
  if (before.kind === 'unreadable') {
    return checkFailed(`could not read the failed units before the deploy: ${before.reason}`)
  }
  if (after.kind === 'no-systemctl') return noSystemctl(requireSystemctl)
  if (after.kind === 'unreadable') {
    return checkFailed(`could not read the failed units after the deploy: ${after.reason}`)
  }
  const newlyFailed = after.failed.filter(unit => !before.failed.includes(unit))
  const alreadyFailed = after.failed.filter(unit => before.failed.includes(unit))
  const journals = after.journals.filter(journal => newlyFailed.includes(journal.unit))
  const stillStarting = after.state === 'starting' || after.state === 'initializing'
  const ok = newlyFailed.length === 0 && !stillStarting
  const output = [
    ...(after.listing.trim() !== '' ? [after.listing] : []),
    ...journals.flatMap(journal => [`-- ${journal.unit} --`, ...journal.lines])
  ].join('\n')
  const reasons = [
    ...(newlyFailed.length > 0 ? [newlyFailedReason(newlyFailed)] : []),
    ...(stillStarting
      ? [`the system was still ${after.state} after ${waitSeconds} s (systemctl is-system-running)`]
      : [])
  ]
  return {
    health: { ok, newlyFailed, alreadyFailed, output: outputTail(output) },
    error: ok ? null : `health check: ${reasons.join('; ')}`,
    journals,
    note: null
  }
}

function newlyFailedReason(units: readonly string[]): string {
  const named = units.slice(0, NAMED_UNITS).join(', ')
  const more = units.length > NAMED_UNITS ? ` and ${units.length - NAMED_UNITS} more` : ''
  const count = units.length === 1 ? '1 unit' : `${units.length} units`
  return `${count} failed after the deploy: ${named}${more}`
}

/** The user's command: its exit status decides. */
export function commandVerdict(exitCode: number, stdout: string, stderr: string): HealthVerdict {
  const ok = exitCode === 0
  const output = outputTail([stdout, stderr].filter(text => text.trim() !== '').join('\n'))
  return {
    health: { ok, newlyFailed: [], alreadyFailed: [], output },
    error: ok ? null : `health check: the command exited with code ${exitCode}`,
    journals: [],
    note: null
  }
}
