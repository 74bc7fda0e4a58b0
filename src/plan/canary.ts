/**
 * The `canary` input against the plan: which targeted nodes go first, and
 * whether the rest may follow once they are done.
 */
import { PlanError } from './inventory.js'
import { resolveTargets, type PlannedNode } from './targets.js'

const MAX_LISTED = 40

/**
 * The planned nodes the canary words name, in plan order. Each word uses
 * the syntax of `targets` (`node`, `node.profile`, `"a.b"`) and must name a
 * node that `targets` selected: a canary outside the run would either deploy
 * a node nobody asked for or gate the run on nothing.
 */
export function resolveCanaries(
  words: readonly string[],
  planned: readonly PlannedNode[]
): PlannedNode[] {
  if (words.length === 0) return []
  const outside = words.filter(word => !namesPlannedNode(word, planned))
  if (outside.length > 0) {
    const names = planned.map(node => node.name)
    const listed =
      names.length > MAX_LISTED
        ? `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more`
        : names.join(', ')
    throw new PlanError(
      `canary: ${outside.map(word => JSON.stringify(word)).join(', ')} ${outside.length === 1 ? 'is not a node' : 'are not nodes'} of this run's targets; a canary must also be in targets. The targeted nodes are: ${listed}.`
    )
  }
  const chosen = new Set(resolveTargets(words, planned).map(node => node.name))
  return planned.filter(node => chosen.has(node.name))
}

function namesPlannedNode(word: string, planned: readonly PlannedNode[]): boolean {
  try {
    resolveTargets([word], planned)
    return true
  } catch (error) {
    if (error instanceof PlanError) return false
    throw error
  }
}

/** How a canary ended, as far as the gate needs to know. */
export interface CanaryEnd {
  node: string
  status: string
}

/** A canary that ended so lets the rest start (`dry-run`: a dry run with a canary checks it first too). */
const PASSED = new Set(['deployed', 'dry-run'])

/**
 * Null when every canary ended `deployed` (the rest may start); else the
 * reason every other node is skipped, naming the first canary that did not.
 */
export function canaryVerdict(canaries: readonly CanaryEnd[]): string | null {
  const stopped = canaries.find(canary => !PASSED.has(canary.status))
  if (stopped === undefined) return null
  return `not started: canary ${stopped.node} ended ${stopped.status}`
}
