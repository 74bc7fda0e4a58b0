import { compareVersions } from './nix-names.js'
import { packageOfStorePath } from './path-package.js'
import { pairVersions } from './version-pairing.js'

/**
 * The package-level difference between the closure a host runs now and the
 * new one: the `packages` field of a node's result (README, "Outputs").
 *
 * Packages are grouped by name; a package whose set of versions changed is
 * upgraded or downgraded (old and new versions paired as in
 * version-pairing.ts, the direction by Nix's version order), added or removed.
 * A rebuild at the same version (new hash) is no package change; it shows
 * only in the size. Paths without a version count only in the size.
 */

export interface PackageChange {
  name: string
  from: string
  to: string
}

export interface PackageVersion {
  name: string
  version: string
}

export interface PackageDiff {
  upgraded: PackageChange[]
  downgraded: PackageChange[]
  added: PackageVersion[]
  removed: PackageVersion[]
  /** New closure's NAR size minus the current one's, in bytes; null if any size is unknown. */
  sizeDelta: number | null
}

export interface ClosureListing {
  /** Every store path of the closure (`nix-store --query --requisites`). */
  paths: readonly string[]
  /** NAR size in bytes per path; null or missing paths: the host could not tell. */
  narSizes?: ReadonlyMap<string, number> | null
}

/** Package name → its versions in one closure. */
function versionsByName(paths: ReadonlySet<string>): Map<string, Set<string>> {
  const byName = new Map<string, Set<string>>()
  for (const path of paths) {
    const found = packageOfStorePath(path)
    if (found === null) continue
    const versions = byName.get(found.name)
    if (versions === undefined) byName.set(found.name, new Set([found.version]))
    else versions.add(found.version)
  }
  return byName
}

function closureSize(paths: ReadonlySet<string>, sizes: ClosureListing['narSizes']): number | null {
  if (sizes === undefined || sizes === null) return null
  let total = 0
  for (const path of paths) {
    const size = sizes.get(path)
    if (size === undefined || !Number.isFinite(size)) return null
    total += size
  }
  return total
}

function without(versions: ReadonlySet<string>, other: ReadonlySet<string>): string[] {
  return [...versions].filter(version => !other.has(version))
}

/** Code unit order: names are ASCII, and the report must not depend on the locale. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function diffClosures(current: ClosureListing, next: ClosureListing): PackageDiff {
  const currentPaths = new Set(current.paths)
  const nextPaths = new Set(next.paths)
  const before = versionsByName(currentPaths)
  const after = versionsByName(nextPaths)
  const diff: PackageDiff = {
    upgraded: [],
    downgraded: [],
    added: [],
    removed: [],
    sizeDelta: null
  }

  const names = [...new Set([...before.keys(), ...after.keys()])].sort(byText)
  const none = new Set<string>()
  for (const name of names) {
    const old = before.get(name) ?? none
    const now = after.get(name) ?? none
    const pairing = pairVersions(without(old, now), without(now, old))
    for (const { from, to } of pairing.pairs) {
      // Versions Nix calls equal (1.0 → 1.00) are a change, but no downgrade.
      const target = compareVersions(to, from) < 0 ? diff.downgraded : diff.upgraded
      target.push({ name, from, to })
    }
    for (const version of pairing.added) diff.added.push({ name, version })
    for (const version of pairing.removed) diff.removed.push({ name, version })
  }

  const currentSize = closureSize(currentPaths, current.narSizes)
  const nextSize = closureSize(nextPaths, next.narSizes)
  if (currentSize !== null && nextSize !== null) diff.sizeDelta = nextSize - currentSize
  return diff
}
