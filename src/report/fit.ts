/**
 * Keeping a rendered report under a size limit: render again with less
 * detail until it fits, and only as a last resort cut the text, closing the
 * blocks that the cut left open.
 */

export interface FitOptions<L> {
  /** Levels of detail, most detailed first. */
  levels: readonly L[]
  render: (level: L) => string
  limit: number
  /** Size of a text in the unit of `limit` (bytes or characters). */
  measure: (text: string) => number
  /** Longest prefix of a text whose size is at most the given amount. */
  truncate: (text: string, max: number) => string
  /** Appended after a cut (starts a new block; says what happened and where the rest is). */
  cutNotice: string
}

export function fitToLimit<L>(opts: FitOptions<L>): string {
  let text = ''
  for (const level of opts.levels) {
    text = opts.render(level)
    if (opts.measure(text) <= opts.limit) return text
  }
  return cutToLimit(text, opts)
}

/** Room kept for the closing tags and fences `closeOpenBlocks` may add. */
const CLOSERS_RESERVE = 128

/**
 * Cuts `text` at a line boundary so that it, the closers of whatever it left
 * open, and the notice fit in `limit`. If even the notice does not fit, the
 * notice alone, cut to the limit.
 */
export function cutToLimit<L>(
  text: string,
  opts: Pick<FitOptions<L>, 'limit' | 'measure' | 'truncate' | 'cutNotice'>
): string {
  const notice = `\n\n${opts.cutNotice.trim()}\n`
  let budget = opts.limit - opts.measure(notice) - CLOSERS_RESERVE
  while (budget > 0) {
    const prefix = opts.truncate(text, budget)
    const lineEnd = prefix.lastIndexOf('\n')
    const kept = lineEnd >= 0 ? prefix.slice(0, lineEnd) : ''
    const out = `${closeOpenBlocks(kept)}${notice}`
    if (opts.measure(out) <= opts.limit) return out
    budget -= CLOSERS_RESERVE
  }
  return opts.truncate(opts.cutNotice.trim(), opts.limit)
}

/**
 * Appends what closes the blocks left open at the end of `markdown`: a code
 * fence, `<pre>` and `<details>` elements (as the report writes them, with
 * their tags at the start of a line). The report escapes `<` in everything
 * untrusted, so such tags only come from the renderer itself.
 */
export function closeOpenBlocks(markdown: string): string {
  let fence: string | null = null
  const open: Array<'details' | 'pre'> = []
  for (const line of markdown.split('\n')) {
    if (fence !== null) {
      if (line.trimEnd() === fence) fence = null
      continue
    }
    if (open[open.length - 1] === 'pre') {
      if (/<\/pre>/i.test(line)) open.pop()
      continue
    }
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line)
    if (f) {
      fence = f[1]
      continue
    }
    if (/^<details[\s>]/i.test(line)) open.push('details')
    else if (/^<\/details>/i.test(line)) {
      const at = open.lastIndexOf('details')
      if (at >= 0) open.splice(at, 1)
    } else if (/^<pre[\s>]/i.test(line) && !/<\/pre>/i.test(line)) open.push('pre')
  }
  let out = markdown
  if (fence !== null) out += `\n${fence}`
  while (open.length > 0) {
    out += open.pop() === 'pre' ? '\n</pre>' : '\n\n</details>'
  }
  return out
}
