/**
 * The systemd health check as data: the two remote scripts (one ssh round
 * trip each) and the parsers of what they print.
 *
 * Each script marks its own lines with a token drawn fresh for the run:
 * `TOKEN:tag args`. The host's programs print between those lines and do
 * not know the token, so a unit name or a journal line can never pass for
 * one of the script's markers.
 *
 * The scripts are POSIX sh, run as `sh -c '...'` whatever the login shell
 * of the host's user is, and written on one line (fish and csh users too).
 */
import { randomBytes } from 'node:crypto'
import type { UnitJournal } from '../model.js'
import { shellQuote } from '../ssh/shell-quote.js'

/** journalctl lines shown per newly failed unit. */
export const JOURNAL_LINES = 20
/** Units whose journal is fetched, at most (the rest are only named). */
export const MAX_JOURNALS = 10
/** Characters kept of one journal line (the host cuts first, in bytes). */
export const MAX_LINE_CHARS = 500
/** Failed units read from one listing, at most. */
export const MAX_UNITS = 500

const LIST_FAILED = 'systemctl list-units --failed --plain --no-legend --no-pager'

/** A marker token nobody can guess: 32 hex digits from the system's CSPRNG. */
export function newHealthToken(): string {
  return randomBytes(16).toString('hex')
}

/** `sh -c '<script>'`: the script runs under sh whatever the user's login shell is. */
export function viaSh(script: string): string {
  return `sh -c ${shellQuote(script)}`
}

/**
 * BEFORE the deploy: is there a systemctl, and which units have failed.
 * systemctl's stderr goes to ssh's stderr (the reason if the listing fails).
 */
export function beforeScript(token: string): string {
  return viaSh(
    [
      `T=${shellQuote(token)};`,
      'if ! command -v systemctl >/dev/null 2>&1; then echo "$T:no-systemctl"; exit 0; fi;',
      'echo "$T:failed-units";',
      `${LIST_FAILED};`,
      'echo "$T:end $?"'
    ].join(' ')
  )
}

/**
 * AFTER the deploy: wait up to `waitSeconds` while `is-system-running` says
 * `starting` (or `initializing`), print the final state, list the failed
 * units, then print the journal of each failed unit that was not already
 * failed before (passed in, quoted), at most MAX_JOURNALS of them.
 */
export function afterScript(
  token: string,
  alreadyFailed: readonly string[],
  waitSeconds: number
): string {
  const wait = Math.max(0, Math.floor(waitSeconds))
  // Spaces around every name: `case " $before " in *" $u "*` matches whole names only.
  const before = ` ${alreadyFailed.join(' ')} `
  return viaSh(
    [
      `T=${shellQuote(token)}; before=${shellQuote(before)};`,
      'if ! command -v systemctl >/dev/null 2>&1; then echo "$T:no-systemctl"; exit 0; fi;',
      `end=$(( $(date +%s) + ${wait} ));`,
      'state=$(systemctl is-system-running 2>/dev/null);',
      'while { [ "$state" = starting ] || [ "$state" = initializing ]; } && [ "$(date +%s)" -lt "$end" ]; do',
      'sleep 1; state=$(systemctl is-system-running 2>/dev/null);',
      'done;',
      'echo "$T:state $state";',
      `failed=$(${LIST_FAILED}); status=$?;`,
      'echo "$T:failed-units"; [ -n "$failed" ] && printf "%s\\n" "$failed"; echo "$T:end $status";',
      '[ "$status" = 0 ] || exit 0;',
      'set -f; n=0;',
      'printf "%s\\n" "$failed" | while IFS= read -r line; do',
      // word splitting with globbing off: the first word is the unit (after a status mark, if any)
      'set -- $line; case "${1-}" in "●"|"*"|"×") shift ;; esac; u=${1-};',
      '[ -n "$u" ] || continue;',
      'case "$before" in *" $u "*) continue ;; esac;',
      `n=$((n + 1)); [ "$n" -le ${MAX_JOURNALS} ] || break;`,
      'echo "$T:journal $u";',
      `journalctl -u "$u" -n ${JOURNAL_LINES} --no-pager 2>&1 | tail -n ${JOURNAL_LINES} | cut -b 1-${MAX_LINE_CHARS * 4};`,
      'echo "$T:journal-end";',
      'done;',
      'exit 0'
    ].join(' ')
  )
}

/** A systemd unit name: letters, digits and `:_.@\-`, with a type suffix. */
const UNIT_NAME =
  /^[A-Za-z0-9:_.@\\-]+\.(?:service|socket|device|mount|automount|swap|target|path|timer|slice|scope)$/

/** Status marks some systemctl versions print before a unit, even with --plain. */
const STATUS_MARKS = new Set(['●', '*', '×'])

/**
 * The unit names of a `systemctl list-units --failed --plain --no-legend`
 * listing: the first word of each line (after a status mark). Lines that do
 * not start with a unit name (warnings, a legend) are not units.
 */
export function parseFailedUnits(listing: string): string[] {
  const units: string[] = []
  for (const line of listing.split('\n')) {
    const words = line.trim().split(/\s+/)
    const unit = STATUS_MARKS.has(words[0] ?? '') ? words[1] : words[0]
    if (unit !== undefined && UNIT_NAME.test(unit) && !units.includes(unit)) units.push(unit)
    if (units.length >= MAX_UNITS) break
  }
  return units
}

/** What the BEFORE script reported. */
export type BeforeReading =
  | { kind: 'no-systemctl' }
  | { kind: 'listed'; failed: string[] }
  /** The listing failed or the output is cut short: why, in one line. */
  | { kind: 'unreadable'; reason: string }

/** What the AFTER script reported. */
export type AfterReading =
  | { kind: 'no-systemctl' }
  | {
      kind: 'listed'
      /** `systemctl is-system-running` after the wait ('' when it printed nothing). */
      state: string
      failed: string[]
      /** The failed units' listing as printed (for the output tail). */
      listing: string
      journals: UnitJournal[]
    }
  | { kind: 'unreadable'; reason: string }

/** A unit's last journal lines, each cut to MAX_LINE_CHARS; not escaped (the report does that). */
export type { UnitJournal }

interface Marked {
  tag: string
  arg: string
}

/** Splits output into marked lines and the host's lines between them. */
function scan(stdout: string, token: string): { marks: Marked[]; between: string[][] } {
  const prefix = `${token}:`
  const marks: Marked[] = []
  const between: string[][] = [[]]
  for (const line of stdout.replace(/\r?\n$/, '').split('\n')) {
    if (line.startsWith(prefix)) {
      const rest = line.slice(prefix.length)
      const space = rest.indexOf(' ')
      marks.push(
        space === -1
          ? { tag: rest, arg: '' }
          : { tag: rest.slice(0, space), arg: rest.slice(space + 1) }
      )
      between.push([])
    } else {
      ;(between.at(-1) as string[]).push(line)
    }
  }
  return { marks, between }
}

/** The reason a listing failed: its exit status and systemctl's own last words. */
function listingFailure(status: string, stderr: string): string {
  const said = stderr
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '')
    .slice(-2)
    .join(' / ')
  return `\`systemctl list-units --failed\` exited with code ${status}${said ? `: ${clip(said)}` : ''}`
}

/** systemctl's words when systemd is not PID 1 (src/shared/bus-util.c, systemctl's bus_connect_transport). */
const NOT_BOOTED_WITH_SYSTEMD = /has not been booted with systemd/

export function parseBefore(stdout: string, stderr: string, token: string): BeforeReading {
  const { marks, between } = scan(stdout, token)
  if (marks[0]?.tag === 'no-systemctl') return { kind: 'no-systemctl' }
  const start = marks.findIndex(mark => mark.tag === 'failed-units')
  const end = marks[start + 1]
  if (start === -1 || end?.tag !== 'end') {
    return { kind: 'unreadable', reason: 'the list of failed units was cut short' }
  }
  if (end.arg !== '0') {
    // systemctl is installed, but systemd is not the init system (a container, WSL): nothing to check.
    if (NOT_BOOTED_WITH_SYSTEMD.test(stderr)) return { kind: 'no-systemctl' }
    return { kind: 'unreadable', reason: listingFailure(end.arg, stderr) }
  }
  return { kind: 'listed', failed: parseFailedUnits(between[start + 1].join('\n')) }
}

export function parseAfter(stdout: string, stderr: string, token: string): AfterReading {
  const { marks, between } = scan(stdout, token)
  if (marks[0]?.tag === 'no-systemctl') return { kind: 'no-systemctl' }
  const state = marks.find(mark => mark.tag === 'state')
  const start = marks.findIndex(mark => mark.tag === 'failed-units')
  const end = marks[start + 1]
  if (state === undefined || start === -1 || end?.tag !== 'end') {
    return { kind: 'unreadable', reason: 'the list of failed units was cut short' }
  }
  if (end.arg !== '0') return { kind: 'unreadable', reason: listingFailure(end.arg, stderr) }
  const listing = between[start + 1]
  const journals: UnitJournal[] = []
  for (let i = start + 2; i < marks.length; i++) {
    if (marks[i].tag !== 'journal') continue
    // A journal without its end marker was cut short (timeout, lost connection): keep what came.
    const lines = between[i + 1]
    journals.push({ unit: marks[i].arg, lines: lines.slice(-JOURNAL_LINES).map(clip) })
    if (journals.length >= MAX_JOURNALS) break
  }
  return {
    kind: 'listed',
    state: state.arg.trim(),
    failed: parseFailedUnits(listing.join('\n')),
    listing: listing.slice(0, MAX_UNITS).map(clip).join('\n'),
    journals
  }
}

function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line
}
