import { randomBytes } from 'node:crypto'
import type { ClosureListing } from './closure-diff.js'
import { parsePathInfoSizes, parseRequisites } from './closure-listing.js'

/**
 * The commands that ask a host about its generations, and the reading of
 * their answers. Each is ONE remote command (one ssh session per node):
 *
 * - before deploy-rs starts: where each profile lives, resolved on the host
 *   as activate-rs resolves it (`get_profile_path` in deploy-rs's
 *   src/bin/activate.rs), and the store path it points at (`readlink -f`);
 * - once deploy-rs has pushed: the closure of each generation, with NAR
 *   sizes (`nix path-info --recursive --size`), or without them from
 *   `nix-store --query --requisites` where `nix` cannot answer.
 *
 * Every value from the flake is shell-quoted, store paths are checked
 * first. Answers are framed by lines carrying a random marker made for this
 * one command: text on the host (a symlink's target, a path name) cannot
 * forge a frame without knowing it. Only top-level paths go into a command:
 * closures of thousands of paths travel in the answer, never as arguments.
 */

/** A profile as deploy-rs's merged settings describe it. */
export interface ProfileSettings {
  name: string
  /** The profile's `profilePath`, null when it has none. */
  profilePath: string | null
  /** The profile user: `user`, else `sshUser` (deploy-rs's profile_user). */
  user: string
}

/** What a host said about one profile before the deploy. */
export interface CurrentGeneration {
  profile: string
  /** The profile path as the host resolved it (for the report), null when it did not say. */
  profilePath: string | null
  /** The store path the profile points at; null when there is none (or it is not a store path). */
  storePath: string | null
  /** Why storePath is null: `no generation at PATH`, `... is not a store path`. */
  reason: string | null
}

/** A closure as the host listed it, or why it could not. */
export type ClosureAnswer =
  | { storePath: string; listing: ClosureListing; error: null }
  | { storePath: string; listing: null; error: string }

/** The store path of a generation: any store directory, a 32-character hash, a valid name. */
const STORE_PATH = /^(?:\/[A-Za-z0-9+\-._=]+)+\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/

export function isStorePath(path: string): boolean {
  return STORE_PATH.test(path)
}

/** A value as one word of a POSIX shell command. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** A new marker for one command's frames. */
export function newMarker(): string {
  return `@deploy-rs-action:${randomBytes(16).toString('hex')}`
}

function checkMarker(marker: string): void {
  if (!/^@deploy-rs-action:[0-9a-f]{32}$/.test(marker)) throw new Error('not a frame marker')
}

/**
 * The profile path, as shell code setting `p`: activate-rs's
 * `get_profile_path`. `profilePath` as given; for root, `system` in the Nix
 * state dir's `profiles`, other names under `profiles/per-user/root`; for
 * another user, `profiles/per-user/USER/NAME` if that directory exists, else
 * the user's XDG state dir (`XDG_STATE_HOME`, else `~/.local/state`, of the
 * ssh user itself, else from the password database, as `sudo -u` would see
 * it) + `/nix/profiles/NAME`. `NIX_STATE_DIR` comes from the ssh session's
 * environment, default `/nix/var/nix`.
 */
function profilePathCode(profile: ProfileSettings): string[] {
  if (profile.profilePath !== null) return [`p=${shellQuote(profile.profilePath)}`]
  const name = shellQuote(profile.name)
  if (profile.user === 'root') {
    return [
      profile.name === 'system'
        ? 'p="$state/profiles/system"'
        : `p="$state/profiles/per-user/root/"${name}`
    ]
  }
  const user = shellQuote(profile.user)
  return [
    `u=${user}`,
    'if [ -e "$state/profiles/per-user/$u" ]; then',
    `  p="$state/profiles/per-user/$u/"${name}`,
    'else',
    '  if [ "$(id -un)" = "$u" ]; then base=${XDG_STATE_HOME-$HOME/.local/state}',
    '  else base="$(getent passwd "$u" | cut -d: -f6)/.local/state"; fi',
    `  p="$base/nix/profiles/"${name}`,
    'fi'
  ]
}

/** The command run before deploy-rs: every profile's path and current generation. */
export function currentGenerationScript(
  profiles: readonly ProfileSettings[],
  marker: string
): string {
  checkMarker(marker)
  const lines = [
    `M=${shellQuote(marker)}`,
    'state=${NIX_STATE_DIR:-/nix/var/nix}',
    "nl='\n'",
    'report() {',
    // a relative path starting with '-' must not read as an option
    '  case $2 in -*) set -- "$1" "./$2" ;; esac',
    '  printf \'%s path %s %s\\n\' "$M" "$1" "$2"',
    '  if [ -e "$2" ] && t=$(readlink -f "$2"); then',
    // one line per answer: a target holding a newline is no store path anyway
    '    case $t in *"$nl"*) t="(a path holding a newline)" ;; esac',
    '    printf \'%s current %s %s\\n\' "$M" "$1" "$t"',
    '  else',
    '    printf \'%s missing %s\\n\' "$M" "$1"',
    '  fi',
    '}'
  ]
  profiles.forEach((profile, i) => {
    lines.push(...profilePathCode(profile), `report ${i} "$p"`)
  })
  return lines.join('\n') + '\n'
}

/** Reads the answer of currentGenerationScript, one entry per profile, in order. */
export function parseCurrentGenerations(
  stdout: string,
  profiles: readonly ProfileSettings[],
  marker: string
): CurrentGeneration[] {
  const paths = new Map<number, string>()
  const current = new Map<number, string | null>()
  const prefix = `${marker} `
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(prefix)) continue
    const match = /^(path|current|missing) (\d+)(?: (.*))?$/.exec(line.slice(prefix.length))
    if (match === null) continue
    const index = Number(match[2])
    if (match[1] === 'path') paths.set(index, match[3] ?? '')
    else if (match[1] === 'current') current.set(index, match[3] ?? '')
    else current.set(index, null)
  }
  return profiles.map((profile, i) => {
    const profilePath = paths.get(i) ?? null
    const where = profilePath === null ? `profile ${profile.name}` : profilePath
    if (!current.has(i)) {
      return {
        profile: profile.name,
        profilePath,
        storePath: null,
        reason: 'the host did not answer'
      }
    }
    const target = current.get(i) ?? null
    if (target === null) {
      return {
        profile: profile.name,
        profilePath,
        storePath: null,
        reason: `no generation at ${where}`
      }
    }
    if (!isStorePath(target)) {
      return {
        profile: profile.name,
        profilePath,
        storePath: null,
        reason: `${where} points at ${JSON.stringify(target.slice(0, 200))}, not a store path`
      }
    }
    return { profile: profile.name, profilePath, storePath: target, reason: null }
  })
}

/** The command run once deploy-rs has pushed: the closure of each store path. */
export function closureListingScript(storePaths: readonly string[], marker: string): string {
  checkMarker(marker)
  for (const path of storePaths) {
    if (!isStorePath(path)) throw new Error(`not a store path: ${JSON.stringify(path)}`)
  }
  const lines = [
    `M=${shellQuote(marker)}`,
    'list() {',
    '  printf \'%s begin %s path-info\\n\' "$M" "$1"',
    '  nix --extra-experimental-features nix-command path-info --recursive --size "$2"',
    '  s=$?',
    // the newline: the end marker starts a line whatever came before it
    '  printf \'\\n%s end %s path-info %s\\n\' "$M" "$1" "$s"',
    '  [ "$s" -eq 0 ] && return 0',
    '  printf \'%s begin %s requisites\\n\' "$M" "$1"',
    '  nix-store --query --requisites "$2"',
    '  s=$?',
    '  printf \'\\n%s end %s requisites %s\\n\' "$M" "$1" "$s"',
    '}'
  ]
  storePaths.forEach((path, i) => lines.push(`list ${i} ${shellQuote(path)}`))
  return lines.join('\n') + '\n'
}

type Method = 'path-info' | 'requisites'

/** Reads the answer of closureListingScript, one entry per store path, in order. */
export function parseClosureListings(
  stdout: string,
  storePaths: readonly string[],
  marker: string
): ClosureAnswer[] {
  const prefix = `${marker} `
  const answers = new Map<number, { listing: ClosureListing } | { error: string }>()
  const failures = new Map<number, string[]>()
  let open: { index: number; method: Method; lines: string[] } | null = null
  const fail = (index: number, why: string): void => {
    failures.set(index, [...(failures.get(index) ?? []), why])
  }
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(prefix)) {
      open?.lines.push(line)
      continue
    }
    const frame = /^(begin|end) (\d+) (path-info|requisites)(?: (\d+))?$/.exec(
      line.slice(prefix.length)
    )
    if (frame === null) continue
    const [, kind, indexText, method, status] = frame
    const index = Number(indexText)
    if (kind === 'begin') {
      open = { index, method: method as Method, lines: [] }
      continue
    }
    if (open === null || open.index !== index || open.method !== method) continue
    const body = open.lines.join('\n')
    open = null
    if (status !== '0') {
      fail(index, `${methodCommand(method as Method)} exited with ${status ?? '?'}`)
      continue
    }
    try {
      const listing = method === 'path-info' ? parsePathInfoSizes(body) : parseRequisites(body)
      answers.set(index, { listing })
    } catch (err) {
      fail(index, `${methodCommand(method as Method)}: ${(err as Error).message}`)
    }
  }
  return storePaths.map((storePath, i) => {
    const answer = answers.get(i)
    if (answer !== undefined && 'listing' in answer) {
      return { storePath, listing: answer.listing, error: null }
    }
    const why = failures.get(i)
    return {
      storePath,
      listing: null,
      error: why === undefined ? 'the host did not answer' : why.join('; ')
    }
  })
}

function methodCommand(method: Method): string {
  return method === 'path-info' ? 'nix path-info' : 'nix-store --query --requisites'
}
