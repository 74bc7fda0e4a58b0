import type { NodePackages } from './node-packages.js'
import { nodePackages, pathsToList } from './node-packages.js'
import {
  closureListingScript,
  currentGenerationScript,
  newMarker,
  parseClosureListings,
  parseCurrentGenerations,
  type CurrentGeneration,
  type ProfileSettings
} from './remote.js'

/**
 * The two per-node steps of "what a change really changes", each ONE
 * remote command over the node's verified ssh connection:
 * - before deploy-rs starts: the current generation of every deployed profile;
 * - after deploy-rs pushed (deploy and dry run alike): both closures, the diff.
 * Neither ever fails the node: what cannot be read makes the packages
 * unknown, with a note for the report.
 */

/** How one remote command ended (the shape of src/ssh/remote-command.ts's RemoteOutcome). */
export type RemoteAnswer =
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string }
  | { kind: 'timed-out'; stdout: string; stderr: string }
  | { kind: 'cancelled' }
  | { kind: 'broken'; message: string }

export interface RemoteRequest {
  command: string
  timeoutMs: number
  maxOutputBytes: number
}

/** Runs one command on the node (its ssh connection, user and options are the caller's). */
export type RunOnNode = (request: RemoteRequest) => Promise<RemoteAnswer>

/** Asking where profiles point: a few lines per profile. */
export const CURRENT_TIMEOUT_MS = 30_000
/** Listing two closures of 20,000+ paths on a slow host, with sizes. */
export const CLOSURES_TIMEOUT_MS = 180_000
/** ~100 bytes per path and size: 16 MiB holds two closures of 80,000 paths each. */
const CLOSURES_MAX_OUTPUT = 16 * 1024 * 1024
const CURRENT_MAX_OUTPUT = 1024 * 1024

/** Why an answer is unusable, or null when the command exited 0. */
function trouble(answer: RemoteAnswer): string | null {
  switch (answer.kind) {
    case 'exited':
      if (answer.exitCode === 0) return null
      return `the host's command exited with ${answer.exitCode}${lastLine(answer.stderr)}`
    case 'timed-out':
      return 'the host did not answer in time'
    case 'cancelled':
      return 'the job was cancelled'
    case 'broken':
      return answer.message
  }
}

function lastLine(stderr: string): string {
  const line = stderr.trim().split('\n').at(-1)?.trim() ?? ''
  return line === '' ? '' : `: ${line.slice(0, 200)}`
}

/** Before deploy-rs: the current generation of each profile, in order. */
export async function readCurrentGenerations(
  profiles: readonly ProfileSettings[],
  runOnNode: RunOnNode
): Promise<CurrentGeneration[]> {
  const marker = newMarker()
  const answer = await runOnNode({
    command: currentGenerationScript(profiles, marker),
    timeoutMs: CURRENT_TIMEOUT_MS,
    maxOutputBytes: CURRENT_MAX_OUTPUT
  })
  const problem = trouble(answer)
  if (problem !== null || answer.kind !== 'exited') {
    return profiles.map(profile => ({
      profile: profile.name,
      profilePath: null,
      storePath: null,
      reason: `could not ask the host: ${problem ?? 'no answer'}`
    }))
  }
  return parseCurrentGenerations(answer.stdout, profiles, marker)
}

/**
 * After the push: `currents[i]` is the profile deployed as `nextPaths[i]`
 * (null: the plan did not say). One remote command lists every closure.
 */
export async function readNodePackages(
  currents: readonly CurrentGeneration[],
  nextPaths: readonly (string | null)[],
  runOnNode: RunOnNode
): Promise<NodePackages> {
  const missing = currents.findIndex((_, i) => (nextPaths[i] ?? null) === null)
  if (missing >= 0) {
    return {
      packages: null,
      note: `new path of ${currents[missing]?.profile ?? 'a profile'} unknown: not in deploy-rs's plan`
    }
  }
  const next = nextPaths as readonly string[]
  // Nothing to compare with: no need to list the new closure either.
  const early = nodePackages(currents, next, [])
  if (currents.some(c => c.storePath === null)) return early
  const paths = pathsToList(currents, next)
  const marker = newMarker()
  let command: string
  try {
    command = closureListingScript(paths, marker)
  } catch (error) {
    return { packages: null, note: (error as Error).message }
  }
  const answer = await runOnNode({
    command,
    timeoutMs: CLOSURES_TIMEOUT_MS,
    maxOutputBytes: CLOSURES_MAX_OUTPUT
  })
  const problem = trouble(answer)
  if (problem !== null || answer.kind !== 'exited') {
    return { packages: null, note: `closures not listed: ${problem ?? 'no answer'}` }
  }
  return nodePackages(currents, next, parseClosureListings(answer.stdout, paths, marker))
}
