import { describeValue } from '../text.js'

/** What `health-check` asks for, validated. */
export type HealthCheck =
  /** `false`: no check, no extra ssh session. */
  | { readonly kind: 'off' }
  /** `auto` / `systemd`: failed units before and after; `systemd` also requires systemctl. */
  | { readonly kind: 'systemd'; readonly requireSystemctl: boolean }
  /** Anything else: the user's own command, run on the host as written. */
  | { readonly kind: 'command'; readonly command: string }

/** Reads the `health-check` input ('' is its default, `auto`). */
export function parseHealthCheck(value: string): HealthCheck {
  const trimmed = value.trim()
  const word = trimmed.toLowerCase()
  if (word === '' || word === 'auto') return { kind: 'systemd', requireSystemctl: false }
  if (word === 'systemd') return { kind: 'systemd', requireSystemctl: true }
  if (word === 'false') return { kind: 'off' }
  if (trimmed.includes('\0')) throw new Error('health-check: the command holds a NUL byte')
  return { kind: 'command', command: trimmed }
}

export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 120
/** A day: longer is certainly a typo (minutes for seconds), and setTimeout has limits. */
const MAX_HEALTH_TIMEOUT_SECONDS = 24 * 60 * 60

/** Reads `health-timeout` (seconds, fractions allowed) into milliseconds. */
export function parseHealthTimeout(value: string): number {
  const trimmed = value.trim()
  if (trimmed === '') return DEFAULT_HEALTH_TIMEOUT_SECONDS * 1000
  // Linear pattern (no nested quantifiers over the same digits).
  const seconds = /^(?:\d+(?:\.\d+)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : NaN
  if (!(seconds > 0) || seconds > MAX_HEALTH_TIMEOUT_SECONDS) {
    throw new Error(
      `health-timeout: got ${describeValue(trimmed)}; expected seconds greater than 0 and at most ${MAX_HEALTH_TIMEOUT_SECONDS}, fractions allowed (e.g. 120 or 0.5).`
    )
  }
  // A tiny positive value must not round to 0 ms (an instant timer).
  return Math.max(1, Math.round(seconds * 1000))
}
