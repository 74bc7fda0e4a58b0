/* eslint-disable no-control-regex */
/** CSI, OSC, DCS/SOS/PM/APC strings and the remaining two-byte escapes. */
const ANSI_RE =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~]?)/g
/* eslint-enable no-control-regex */

/**
 * Removes ANSI escape sequences (colours, cursor movement, titles). deploy-rs
 * colours its level words even without a terminal; most lines have none, so
 * they skip the regex. Ours, not strip-ansi: it also removes the payload of DCS,
 * SOS, PM and APC strings, which a hostile host could print.
 */
export function stripAnsi(text: string): string {
  return text.includes('\x1b') ? text.replace(ANSI_RE, '') : text
}

/** A value quoted for an error message, cut to 60 characters. */
export function describeValue(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value
  return JSON.stringify(shown)
}
