/**
 * The secret values this run knows (key, its lines, passphrase, token), kept
 * so that text the runner does not mask can be redacted before it leaves: the
 * runner masks the job log, but the PR comment and the deployment records go
 * straight to the GitHub API, where nothing masks them.
 */

/**
 * Shorter values are not redacted: a 1–3 character value cannot be told apart
 * from ordinary text (every `==` or `abc` of a report would vanish), and it is
 * no secret worth the name on its own. The same floor decides which key lines
 * are masked (see `maskSecret` in inputs.ts).
 */
export const MIN_SECRET_CHARS = 4

/** What a secret value is replaced with: the runner's own mask, so both look alike. */
export const REDACTED = '***'

const known = new Set<string>()
/** `known`, longest first, so a whole key is replaced before any of its lines; rebuilt lazily. */
let ordered: string[] | null = null

/** Remembers a secret value for `redactSecrets`. Values under `MIN_SECRET_CHARS` are ignored. */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SECRET_CHARS || known.has(value)) return
  known.add(value)
  ordered = null
}

/** Every known secret value in `text` replaced by `***`. */
export function redactSecrets(text: string): string {
  if (known.size === 0 || text === '') return text
  ordered ??= [...known].sort((a, b) => b.length - a.length)
  let out = text
  for (const value of ordered) if (out.includes(value)) out = out.split(value).join(REDACTED)
  return out
}

/**
 * `redactSecrets` applied to every string inside plain objects and arrays (a
 * copy; other values are kept as they are). For report data before it is
 * rendered: rendering escapes and shortens text, and a secret that was
 * escaped or cut in half would no longer be found in the result.
 */
export function redactDeep<T>(value: T): T {
  if (known.size === 0) return value
  return redactValue(value) as T
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value)
  if (Array.isArray(value)) return value.map(redactValue)
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item)]))
  }
  return value
}

/** For tests: forgets every value. */
export function forgetSecrets(): void {
  known.clear()
  ordered = null
}
