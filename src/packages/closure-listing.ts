import type { ClosureListing } from './closure-diff.js'

/**
 * Reads what a host prints about a closure into a ClosureListing:
 * - `nix-store --query --requisites PATH`: one store path per line;
 * - `nix path-info --recursive --size PATH`: `PATH<blanks>NAR-SIZE` per line
 *   (the same text from Nix 2.4 on; 2.8 pads with blanks and a tab).
 * Anything else in the output makes the listing unusable: it throws, saying
 * which line, and the caller reports the packages as unknown.
 */

/** An absolute store path: any store directory, a 32-character hash, a valid name. */
const STORE_PATH = /^\/[^\s]*\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/
const PATH_AND_SIZE = /^(\S+)\s+(\d+)$/

function outputLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '')
}

function shown(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line)
}

export function parseRequisites(stdout: string): ClosureListing {
  const paths = outputLines(stdout)
  for (const path of paths) {
    if (!STORE_PATH.test(path)) throw new Error(`not a store path: ${shown(path)}`)
  }
  if (paths.length === 0) throw new Error('no store paths listed')
  return { paths, narSizes: null }
}

export function parsePathInfoSizes(stdout: string): ClosureListing {
  const paths: string[] = []
  const narSizes = new Map<string, number>()
  for (const line of outputLines(stdout)) {
    const match = PATH_AND_SIZE.exec(line)
    if (match === null || !STORE_PATH.test(match[1])) {
      throw new Error(`not a store path and size: ${shown(line)}`)
    }
    paths.push(match[1])
    narSizes.set(match[1], Number(match[2]))
  }
  if (paths.length === 0) throw new Error('no store paths listed')
  return { paths, narSizes }
}
