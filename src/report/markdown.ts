/**
 * Escaping and size helpers for everything the report writes into GitHub
 * Markdown (job summary, PR comment). Everything that comes from a flake, a
 * host or a log is untrusted: it goes through one of these functions before
 * it is placed in Markdown or HTML.
 *
 * Which helper for which place:
 * - `mdText`: inline Markdown (table cells, list items, paragraphs).
 * - `codeSpan`: a value shown as code (hostnames, profiles, units, flake).
 * - `htmlText`: text inside a raw HTML line (e.g. `<summary>`), where
 *   Markdown is not parsed and only HTML entities work.
 * - `preLines`: lines inside a `<pre>` block.
 */
import { stripAnsi } from '../text.js'

/* eslint-disable no-control-regex */
/** C0/C1 controls except tab and newline (CR is handled separately). */
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g
/* eslint-enable no-control-regex */
/** Bidirectional overrides, which can make text read differently than it is. */
const BIDI_RE = /[\u202a-\u202e\u2066-\u2069]/g
/** Unicode line and paragraph separators: some Markdown renderers end a line there. */
const SEPARATOR_RE = /[\u2028\u2029]/g

/**
 * Makes one log line printable: strips ANSI, keeps what a terminal would show
 * after carriage returns (progress bars), drops other control characters and
 * bidi overrides. Newlines are kept (callers that need one line replace them);
 * U+2028 and U+2029 become newlines, so a table row cannot be split by one.
 */
export function cleanText(text: string): string {
  let out = stripAnsi(text)
  if (out.includes('\r')) {
    out = out
      .split('\n')
      .map(line => {
        const parts = line.split('\r').filter(p => p !== '')
        return parts.length > 0 ? parts[parts.length - 1] : ''
      })
      .join('\n')
  }
  return out.replace(CONTROL_RE, '').replace(BIDI_RE, '').replace(SEPARATOR_RE, '\n')
}

/** `cleanText`, then every run of line breaks (and the spaces around it) becomes one space. */
export function oneLine(text: string): string {
  return cleanText(text)
    .replace(/[ \t]*\n[\s]*/g, ' ')
    .trim()
}

/**
 * Escapes the characters that are special in HTML text (`&`, `<`, `>`). Not
 * for attribute values: the report never puts untrusted text in attributes.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** U+200B: invisible, and GitHub's autolinkers do not match across it. */
const ZWSP = '\u200b'

/**
 * Makes text inert for GitHub's autolinkers by putting a zero-width space
 * where they would match. In a PR comment a mention notifies the person, and a
 * reference to an issue or pull request (also in another repository) adds a
 * "mentioned this" event to it: untrusted text must do neither. Defused:
 * - `@name`, `@org/team` after a non-word character (GitHub's mention rule;
 *   `root@host` is no mention and is left alone);
 * - `#12` after anything, which covers `owner/repo#12` and `repo#12`, and
 *   `#name` after a non-word character;
 * - `GH-12`, any case;
 * - `name@1a2b3c4` and `owner/repo@<sha>` (links to commits elsewhere);
 * - `https://` and `www.` (an autolinked URL of an issue also references it).
 * Bare commit SHAs are left alone: GitHub links them only to commits of this
 * repository, which notifies no one. Not needed inside code or `<pre>`, which
 * GitHub never autolinks.
 */
export function defuseMentions(text: string): string {
  return text
    .replace(/(^|\W)([@#])(?=\w)/g, `$1$2${ZWSP}`)
    .replace(/#(?=\d)/g, `#${ZWSP}`)
    .replace(/@(?=[0-9a-f]{7,40}\b)/gi, `@${ZWSP}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1-${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\b(www)\./gi, `$1${ZWSP}.`)
}

/**
 * Untrusted text for inline Markdown: one line, Markdown punctuation escaped
 * with backslashes (so `|` cannot split a table cell), HTML escaped, mentions
 * defused. Safe anywhere except at the very start of a line.
 */
export function mdText(text: string): string {
  const md = oneLine(text).replace(/[\\`*_[\]~|]/g, ch => `\\${ch}`)
  return defuseMentions(escapeHtml(md))
}

/**
 * Untrusted text as a Markdown code span. The fence is longer than any run of
 * backticks inside. In a table cell, `|` must be escaped even inside code
 * (GitHub removes the backslash there); elsewhere it must not be.
 */
export function codeSpan(text: string, opts: { inTable?: boolean } = {}): string {
  let content = oneLine(text)
  if (content === '') return '—'
  if (opts.inTable) content = content.replace(/\|/g, '\\|')
  const longestRun = Math.max(0, ...(content.match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(longestRun + 1)
  const pad = content.startsWith('`') || content.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${content}${pad}${fence}`
}

/** Untrusted text inside raw HTML on one line (`<summary>`, `<strong>`). */
export function htmlText(text: string): string {
  return defuseMentions(escapeHtml(oneLine(text)))
}

/**
 * Lines for a `<pre>` block: cleaned, HTML-escaped (so `</pre>` in a log line
 * cannot end the block), each cut to `maxChars`.
 */
export function preLines(lines: readonly string[], maxChars: number): string {
  return lines
    .map(line => escapeHtml(capChars(cleanText(line).replace(/\n/g, ' '), maxChars)))
    .join('\n')
}

/**
 * A link target that cannot break out of `[text](url)`: only http(s) URLs,
 * with spaces, quotes, brackets and parentheses percent-encoded. Null otherwise.
 */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url || !/^https?:\/\/[^\s]+$/i.test(url)) return null
  return url.replace(/[<>()"'\\`|[\]]/g, ch => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** UTF-8 size of a string, the unit of GitHub's 1 MiB step-summary limit. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return ''
  // Quick exit without encoding: UTF-8 uses at most 3 bytes per UTF-16 unit.
  if (text.length * 3 <= maxBytes) return text
  const buf = Buffer.from(text, 'utf8')
  if (buf.length <= maxBytes) return text
  let end = maxBytes
  // Step back over continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--
  return buf.subarray(0, end).toString('utf8')
}

/** The longest prefix of at most `maxChars` UTF-16 units that does not split a surrogate pair. */
export function truncateChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  if (maxChars <= 0) return ''
  let end = maxChars
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return text.slice(0, end)
}

/** Cuts `text` to `maxChars`, ending with `…` when something was cut. */
export function capChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  return `${truncateChars(text, Math.max(0, maxChars - 1))}…`
}
