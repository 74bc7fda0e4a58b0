import { diffClosures, type ClosureListing, type PackageDiff } from './closure-diff.js'
import type { ClosureAnswer, CurrentGeneration } from './remote.js'

/**
 * A node's `packages`, from what its host said: the current generation of
 * each deployed profile (before deploy-rs), and the closures of those and of
 * the new paths (after the push). With several profiles, the node's closure
 * is the union of its profiles' closures, before and after: one diff per
 * node, as the report shows it.
 *
 * When a current generation cannot be read (first deploy, no such profile,
 * not a store path) or a closure cannot be listed, the packages are unknown
 * (null) and `note` says why, for the report: that is not a failure of the
 * node.
 */

export interface NodePackages {
  packages: PackageDiff | null
  /** Why packages is null, in a few words for the report; null when they are known. */
  note: string | null
}

/** The store paths whose closures the host must list: each current (known) and each new path, once. */
export function pathsToList(
  currents: readonly CurrentGeneration[],
  nextPaths: readonly string[]
): string[] {
  const paths = [
    ...currents.flatMap(c => (c.storePath === null ? [] : [c.storePath])),
    ...nextPaths
  ]
  return [...new Set(paths)]
}

function union(listings: readonly ClosureListing[]): ClosureListing {
  const paths = new Set<string>()
  let narSizes: Map<string, number> | null = new Map()
  for (const listing of listings) {
    for (const path of listing.paths) paths.add(path)
    if (listing.narSizes === null || listing.narSizes === undefined) narSizes = null
    else if (narSizes !== null)
      for (const [path, size] of listing.narSizes) narSizes.set(path, size)
  }
  return { paths: [...paths], narSizes }
}

/**
 * `currents[i]` is the current generation of the profile deployed as
 * `nextPaths[i]`; `answers` the host's closure listings (any order).
 */
export function nodePackages(
  currents: readonly CurrentGeneration[],
  nextPaths: readonly string[],
  answers: readonly ClosureAnswer[]
): NodePackages {
  const unknown = currents.find(c => c.storePath === null)
  if (unknown !== undefined) {
    return {
      packages: null,
      note: `current generation of ${unknown.profile} unknown: ${unknown.reason ?? 'not read'}`
    }
  }
  const byPath = new Map(answers.map(answer => [answer.storePath, answer]))
  const listing = (path: string): ClosureListing | string => {
    const answer = byPath.get(path)
    if (answer === undefined) return `closure of ${path} not listed`
    return answer.listing ?? `closure of ${path} unknown: ${answer.error}`
  }
  const before = currents.map(c => listing(c.storePath as string))
  const after = nextPaths.map(listing)
  const failed = [...before, ...after].find((l): l is string => typeof l === 'string')
  if (failed !== undefined) return { packages: null, note: failed }
  return {
    packages: diffClosures(union(before as ClosureListing[]), union(after as ClosureListing[])),
    note: null
  }
}
