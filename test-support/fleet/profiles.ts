/**
 * The profiles of the sandbox hosts: real generations in the local Nix store
 * (closures.ts), and per node and profile a real profile — the symlinks
 * `nix-env -p PROFILE --set` makes: `PROFILE-N-link` → a store path, `PROFILE`
 * → `PROFILE-N-link` — in the host's state dir. The stand-in's activation
 * moves them (deploy-rs-stand-in/remote-scripts.mjs); the action reads them
 * with `readlink -f` over ssh, as on a real host.
 *
 * The hosts share this machine's Nix store, so no push is needed for the
 * paths to be "on the host". They never get a NIX_STATE_DIR of their own
 * (that would also move Nix's database): profiles without a `profilePath`
 * live where only the stand-in looks (`<stateDir>/stand-in-profiles/`).
 */
import { chown, lchown, mkdir, symlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { makeGenerations, type GenerationSpec } from './closures.js'
import type { FleetNodeSpec, FleetProfile, GenerationContents, NodeGenerations } from './types.js'

/** What every node runs and gets unless its spec says otherwise: the same packages, `etc` rebuilt. */
export const DEFAULT_GENERATIONS: { current: GenerationContents; next: GenerationContents } = {
  current: {
    packages: { linux: '6.6.30', openssl: '3.0.13', nginx: '1.26.1', systemd: '255.4' },
    extras: ['etc', 'system-units'],
    references: { 'nginx-1.26.1': ['openssl-3.0.13'] }
  },
  next: {
    packages: { linux: '6.6.30', openssl: '3.0.13', nginx: '1.26.1', systemd: '255.4' },
    extras: ['etc', 'system-units'],
    references: { 'nginx-1.26.1': ['openssl-3.0.13'] },
    rebuilt: ['etc']
  }
}

/**
 * A big generation for a fleet node: `count` versioned paths `pkgN-<v>.N`
 * (`<v>` = `major` for every `changedEvery`-th package, else 1), so two of
 * them with different majors differ in exactly count / changedEvery
 * upgrades. Like makeLargeGeneration, but usable as a node's `generations`.
 */
export function largeGenerationContents(
  count: number,
  major: number,
  changedEvery = 10
): GenerationContents {
  const packages: Record<string, string> = {}
  for (let i = 0; i < count; i++) {
    packages[`pkg${i}`] = `${i % changedEvery === 0 ? major : 1}.${i}`
  }
  return { packages, extras: ['etc'] }
}

/** A node or profile name as one file name (names may hold dots, slashes, quotes...). */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, c => `%${c.charCodeAt(0).toString(16)}`)
}

/** A valid store path name from a node and profile: `<node>-<profile>`. */
export function topLevelName(node: string, profile: string): string {
  return `${node}-${profile}`.replace(/[^A-Za-z0-9+\-._?=]/g, '-').replace(/^\./, '-')
}

/** Where a profile's symlinks live on its host (see the file comment). */
export function profileLocation(
  stateDir: string,
  profile: string,
  hasProfilePath: boolean
): string {
  return join(stateDir, hasProfilePath ? 'profiles' : 'stand-in-profiles', safeFileName(profile))
}

/** Who gets the profiles (the login user), or null to leave them to the current user. */
export type Owner = { uid: number; gid: number } | null

export interface ProfileRequest {
  spec: FleetNodeSpec
  stateDir: string
}

function specOf(contents: GenerationContents, node: string, profile: string): GenerationSpec {
  return { ...contents, name: contents.name ?? topLevelName(node, profile) }
}

/**
 * Makes every node's generations (one evaluation for the whole fleet) and
 * the current generation's profile symlinks, owned by `owner` (the login
 * user, who moves them on activation). Returns each node's profiles.
 */
export async function prepareProfiles(
  requests: readonly ProfileRequest[],
  owner: Owner
): Promise<Record<string, FleetProfile>[]> {
  const wanted: {
    node: number
    profile: string
    current: GenerationSpec | null
    next: GenerationSpec
  }[] = []
  for (const [i, { spec }] of requests.entries()) {
    const generations: NodeGenerations = spec.generations ?? {}
    const current =
      generations.current === undefined ? DEFAULT_GENERATIONS.current : generations.current
    const next = generations.next ?? DEFAULT_GENERATIONS.next
    for (const profile of spec.profiles ?? ['system']) {
      wanted.push({
        node: i,
        profile,
        current: current === null ? null : specOf(current, spec.name, profile),
        next: specOf(next, spec.name, profile)
      })
    }
  }
  const specs = wanted.flatMap(w => (w.current === null ? [w.next] : [w.current, w.next]))
  const made = await makeGenerations(specs)

  const profiles: Record<string, FleetProfile>[] = requests.map(() => ({}))
  let k = 0
  for (const w of wanted) {
    const current = w.current === null ? null : made[k++]!
    const next = made[k++]!
    const { spec, stateDir } = requests[w.node]!
    const hasProfilePath = spec.profilePath !== false
    const location = profileLocation(stateDir, w.profile, hasProfilePath)
    await mkdir(dirname(location), { recursive: true })
    if (owner !== null) await chown(dirname(location), owner.uid, owner.gid)
    if (current !== null) await seedGeneration(location, current.topLevel, owner)
    profiles[w.node]![w.profile] = {
      profilePath: hasProfilePath ? location : null,
      location,
      current,
      next
    }
  }
  return profiles
}

/** Generation 1 of a profile, as `nix-env -p LOCATION --set PATH` leaves a new profile. */
async function seedGeneration(location: string, storePath: string, owner: Owner): Promise<void> {
  const link = join(dirname(location), `${basename(location)}-1-link`)
  await symlink(storePath, link)
  await symlink(basename(link), location)
  // lchown: chown would follow the links into the store.
  if (owner !== null) for (const path of [link, location]) await lchown(path, owner.uid, owner.gid)
}
