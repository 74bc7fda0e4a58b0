import { compareVersions, versionComponents } from './nix-names.js'

/**
 * Which old version of a package became which new one, when a closure holds
 * several versions of it (two pythons, two openssls).
 *
 * Each list is put in Nix's version order, and they are matched without
 * crossing (the k-th oldest removed version never maps past a newer one),
 * with as many pairs as possible; among those matchings the one whose pairs
 * share the most leading version components wins (3.11.8 → 3.11.9 rather
 * than 3.11.8 → 3.12.0), ties going to the newer versions. With one version
 * on each side, the common case, that is simply the one pair. Versions left
 * without a partner were added or removed outright.
 */

export interface VersionPairing {
  pairs: { from: string; to: string }[]
  /** Removed versions without a successor, oldest first. */
  removed: string[]
  /** Added versions without a predecessor, oldest first. */
  added: string[]
}

/** Beyond this many candidate pairs the matching is newest-with-newest (linear). */
const MATCHING_LIMIT = 250_000

/** Nix's version order; versions Nix calls equal (1.0 and 1.00) by their text. */
export function byVersion(a: string, b: string): number {
  return compareVersions(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

function sharedLeadingComponents(a: readonly string[], b: readonly string[]): number {
  let shared = 0
  while (shared < a.length && shared < b.length && a[shared] === b[shared]) shared++
  return shared
}

/** Pairs newest with newest, for pathological version counts. */
function pairFromTheTop(removed: string[], added: string[]): VersionPairing {
  const count = Math.min(removed.length, added.length)
  const pairs = []
  for (let k = 1; k <= count; k++) {
    pairs.unshift({ from: removed[removed.length - k], to: added[added.length - k] })
  }
  return {
    pairs,
    removed: removed.slice(0, removed.length - count),
    added: added.slice(0, added.length - count)
  }
}

/**
 * `removedVersions`: in the current closure only; `addedVersions`: in the
 * new one only (for one package name). Neither may hold '' or duplicates.
 */
export function pairVersions(
  removedVersions: Iterable<string>,
  addedVersions: Iterable<string>
): VersionPairing {
  const removed = [...removedVersions].sort(byVersion)
  const added = [...addedVersions].sort(byVersion)
  if (removed.length === 0 || added.length === 0) return { pairs: [], removed, added }
  if (removed.length * added.length > MATCHING_LIMIT) return pairFromTheTop(removed, added)

  const removedParts = removed.map(versionComponents)
  const addedParts = added.map(versionComponents)
  // A pair is worth more than any amount of shared components.
  const pairWeight = 1 + [...removedParts, ...addedParts].reduce((sum, p) => sum + p.length, 0)
  const columns = added.length + 1
  // best[i * columns + j]: the best score matching removed[0, i) with added[0, j).
  const best = new Float64Array((removed.length + 1) * columns)
  const pairScore = (i: number, j: number): number =>
    pairWeight + sharedLeadingComponents(removedParts[i], addedParts[j])
  for (let i = 1; i <= removed.length; i++) {
    for (let j = 1; j <= added.length; j++) {
      best[i * columns + j] = Math.max(
        best[(i - 1) * columns + j],
        best[i * columns + j - 1],
        best[(i - 1) * columns + j - 1] + pairScore(i - 1, j - 1)
      )
    }
  }

  // Walk back from the newest versions, pairing whenever that keeps the best score.
  const pairs: { from: string; to: string }[] = []
  const unpairedRemoved: string[] = []
  const unpairedAdded: string[] = []
  let i = removed.length
  let j = added.length
  while (i > 0 && j > 0) {
    const here = best[i * columns + j]
    if (here === best[(i - 1) * columns + j - 1] + pairScore(i - 1, j - 1)) {
      pairs.unshift({ from: removed[i - 1], to: added[j - 1] })
      i--
      j--
    } else if (here === best[(i - 1) * columns + j]) {
      unpairedRemoved.unshift(removed[--i])
    } else {
      unpairedAdded.unshift(added[--j])
    }
  }
  return {
    pairs,
    removed: [...removed.slice(0, i), ...unpairedRemoved],
    added: [...added.slice(0, j), ...unpairedAdded]
  }
}
