/**
 * The one place that decides whether a node may start (cancelled, fail-fast,
 * canary) and the one place that builds a node's record when it does not.
 */
import {
  isSuccess,
  type NodeReport,
  type NodeResult,
  type NodeStatus,
  type Stage
} from '../model.js'
import type { PlannedNode } from '../plan/targets.js'

export const CANCELLED_BEFORE_START = 'the job was cancelled before this node started'
export const FAIL_FAST_SKIP = 'not started: fail-fast stopped the run after an earlier node failed'

/** What the run knows when a node's turn comes. */
export interface StartState {
  cancelled: boolean
  failFast: boolean
  /** Nodes that have ended, so far. */
  settled: readonly NodeReport[]
  /** Canary nodes, when this node is one of the rest (it waits for every canary), else empty. */
  canaries: readonly NodeReport[]
}

/** null: start the node; else why it is not started. */
export function startVerdict(
  state: StartState
): { status: 'cancelled' | 'skipped'; reason: string } | null {
  if (state.cancelled) return { status: 'cancelled', reason: CANCELLED_BEFORE_START }
  const failedCanary = state.canaries.find(report => !isSuccess(report.result.status))
  if (failedCanary) {
    const { node, status } = failedCanary.result
    return {
      status: 'skipped',
      reason: `not started: canary node ${node} ended ${status}, so the rest were not deployed`
    }
  }
  if (state.failFast && state.settled.some(report => !isSuccess(report.result.status))) {
    return { status: 'skipped', reason: FAIL_FAST_SKIP }
  }
  return null
}

/** A node's result: who it is, from the plan, and how it ended. */
export function nodeResult(
  node: PlannedNode,
  dryRun: boolean,
  ended: Pick<NodeResult, 'status' | 'stage' | 'error' | 'changes' | 'exitCode' | 'durationMs'>
): NodeResult {
  return {
    node: node.name,
    hostname: node.hostname,
    profiles: [...node.targetProfiles],
    status: ended.status,
    stage: ended.stage,
    exitCode: ended.exitCode,
    durationMs: ended.durationMs,
    dryRun,
    changes: ended.changes,
    health: null,
    error: ended.error
  }
}

/** The record of a node that never ran deploy-rs. */
export function notStarted(
  node: PlannedNode,
  dryRun: boolean,
  status: NodeStatus,
  error: string,
  stage: Stage | null = null
): NodeReport {
  return {
    result: nodeResult(node, dryRun, {
      status,
      stage,
      error,
      changes: null,
      exitCode: null,
      durationMs: 0
    }),
    logFile: null,
    logTail: [],
    logBytes: 0
  }
}

/** Every node not started, for the same reason (a run-level failure or a cancel). */
export function noneStarted(
  nodes: readonly PlannedNode[],
  dryRun: boolean,
  status: 'skipped' | 'cancelled',
  reason: string
): NodeReport[] {
  return nodes.map(node => notStarted(node, dryRun, status, reason))
}
