/**
 * Log excerpts for the summary and the PR comment: the end of a node's log,
 * without the noise that hides the failure.
 *
 * deploy-rs prints its plan as TOML before doing anything
 * (`The following profiles are going to be deployed:` then `[node.profile]`,
 * `user`, `ssh_user`, `path`, `hostname`, `ssh_opts`). The action's
 * `ssh_opts` alone is a line of several hundred characters of temp paths,
 * and the plan says nothing about why a node failed. An excerpt keeps the
 * plan's header and its `[node.profile]` lines, and replaces the keys with
 * one line saying what was left out. The full log is untouched.
 */
import { cleanText } from './markdown.js'

const PLAN_HEADER = /The following profiles are going to be deployed:\s*$/
const TOML_SECTION = /^\[.+\]$/
const TOML_KEY = /^([A-Za-z0-9_-]+) = /

export interface LogExcerpt {
  lines: string[]
  /** The line that stands for a left-out plan, or null when nothing was left out. */
  marker: string | null
}

/** The lines of a log with each deploy-rs plan shortened to its header and `[node.profile]` lines. */
export function condenseLog(lines: readonly string[]): LogExcerpt {
  const out: string[] = []
  let marker: string | null = null
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i])
    if (!PLAN_HEADER.test(cleanText(lines[i]))) continue
    const keys: string[] = []
    let dropped = 0
    let j = i + 1
    for (; j < lines.length; j++) {
      const line = cleanText(lines[j]).trimEnd()
      const key = TOML_KEY.exec(line)
      if (TOML_SECTION.test(line)) out.push(lines[j])
      else if (key) {
        dropped++
        if (!keys.includes(key[1])) keys.push(key[1])
      } else if (line !== '') break
    }
    if (dropped > 0) {
      marker = `… ${dropped} ${dropped === 1 ? 'line' : 'lines'} of the plan (${keys.slice(0, 8).join(', ')}) left out here; they are in the full log`
      out.push(marker)
    }
    i = j - 1
  }
  return { lines: out, marker }
}
