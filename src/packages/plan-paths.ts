import { stripAnsi } from '../text.js'

/**
 * The new store path of each profile, from the plan deploy-rs prints before
 * it builds (src/cli.rs `print_deployment`): `The following profiles are
 * going to be deployed:` and then TOML, one table per node and profile —
 *
 *     [web.system]
 *     user = "root"
 *     path = "/nix/store/...-nixos-system-web-24.05..."
 *
 * Keys that are not bare TOML keys are quoted (`["db.lan".system]`). The
 * plan ends at the first line that is not TOML (the next log line).
 */

const PLAN_START = 'The following profiles are going to be deployed:'
const BARE_KEY = /^[A-Za-z0-9_-]+/

/** A TOML key path `a."b.c".d` into its keys; null when it is not one. */
export function parseTomlKeys(text: string): string[] | null {
  const keys: string[] = []
  let rest = text.trim()
  for (;;) {
    let key: string | null = null
    const bare = BARE_KEY.exec(rest)
    if (bare !== null) {
      key = bare[0]
      rest = rest.slice(key.length)
    } else if (rest.startsWith('"')) {
      const match = /^"(?:[^"\\]|\\.)*"/.exec(rest)
      if (match === null) return null
      try {
        key = JSON.parse(match[0]) as string
      } catch {
        return null
      }
      rest = rest.slice(match[0].length)
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1)
      if (end < 0) return null
      key = rest.slice(1, end)
      rest = rest.slice(end + 1)
    }
    if (key === null) return null
    keys.push(key)
    rest = rest.trimStart()
    if (rest === '') return keys
    if (!rest.startsWith('.')) return null
    rest = rest.slice(1).trimStart()
  }
}

/** Reads plan lines as they come; `paths` holds node → profile → new store path. */
export class PlanPathReader {
  readonly paths = new Map<string, Map<string, string>>()
  private state: 'before' | 'in' | 'after' = 'before'
  private table: string[] | null = null

  push(rawLine: string): void {
    // Only the first plan counts: deploy-rs prints it before any host is
    // reached, so a host cannot print one of its own ahead of it.
    if (this.state === 'after') return
    const line = stripAnsi(rawLine).trimEnd()
    if (this.state === 'before') {
      if (line.endsWith(PLAN_START)) this.state = 'in'
      return
    }
    if (line.trim() === '') return
    // the rest of a value written over several lines (an array)
    if (/^\s*(?:["'\]]|-?\d)/.test(line)) return
    const header = /^\s*\[(.*)\]\s*$/.exec(line)
    if (header !== null) {
      this.table = parseTomlKeys(header[1] as string)
      return
    }
    const entry = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line)
    if (entry === null) {
      this.state = 'after'
      return
    }
    if (entry[1] !== 'path' || this.table === null || this.table.length !== 2) return
    const value = entry[2] as string
    let path: unknown
    try {
      path = JSON.parse(value)
    } catch {
      return
    }
    if (typeof path !== 'string') return
    const [node, profile] = this.table as [string, string]
    const profiles = this.paths.get(node) ?? new Map<string, string>()
    profiles.set(profile, path)
    this.paths.set(node, profiles)
  }
}

/** The plan's paths of one deploy-rs log. */
export function parsePlanPaths(lines: Iterable<string>): Map<string, Map<string, string>> {
  const reader = new PlanPathReader()
  for (const line of lines) reader.push(line)
  return reader.paths
}
