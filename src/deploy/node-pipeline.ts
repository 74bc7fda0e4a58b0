/**
 * One node's way through the run: the stages before deploy-rs, deploy-rs,
 * the stages after it. Each stage returns data that lands on the node's one
 * record, or a failure that ends the node there.
 */
import { isSuccess, type NodeReport, type NodeResult } from '../model.js'
import type { PlannedNode } from '../plan/targets.js'
import { CANCELLED_BEFORE_START, notStarted } from './outcome.js'

/** Why a stage ended the node. */
export type NodeFailure = Pick<NodeResult, 'status' | 'stage'> & { error: string }

/** What a stage adds to the node's record. */
export interface NodeStageOutput {
  /** Fields of the node's result this stage fills in (e.g. a health report). */
  fields?: Partial<Omit<NodeResult, 'node' | 'status' | 'stage' | 'error'>>
  /** Set when the node must not go on (before deploy-rs: it is not deployed). */
  failure?: NodeFailure
}

/** A per-node step that runs before or after deploy-rs (a check, a health probe, a diff). */
export interface NodeStage {
  readonly name: string
  run(node: PlannedNode, abortSignal: AbortSignal): Promise<NodeStageOutput>
}

export interface NodePipeline {
  before: readonly NodeStage[]
  /** Runs deploy-rs for the node and returns its record. */
  deploy: (node: PlannedNode) => Promise<NodeReport>
  /** Run only when deploy-rs succeeded, in order, until one fails. */
  after: readonly NodeStage[]
  dryRun: boolean
  abortSignal: AbortSignal
}

export async function runNodePipeline(
  node: PlannedNode,
  pipeline: NodePipeline
): Promise<NodeReport> {
  const started = Date.now()
  let fields: NodeStageOutput['fields'] = {}
  for (const stage of pipeline.before) {
    if (pipeline.abortSignal.aborted) break
    const output = await stage.run(node, pipeline.abortSignal)
    fields = { ...fields, ...output.fields }
    if (output.failure) {
      const record = notStarted(
        node,
        pipeline.dryRun,
        output.failure.status,
        output.failure.error,
        output.failure.stage
      )
      return withFields(record, { ...fields, durationMs: Date.now() - started })
    }
  }
  // The job may have been cancelled while a stage waited (e.g. on the GitHub API).
  if (pipeline.abortSignal.aborted)
    return notStarted(node, pipeline.dryRun, 'cancelled', CANCELLED_BEFORE_START)
  let record = withFields(await pipeline.deploy(node), fields)
  for (const stage of pipeline.after) {
    if (!isSuccess(record.result.status) || pipeline.abortSignal.aborted) break
    const output = await stage.run(node, pipeline.abortSignal)
    record = withFields(record, output.fields ?? {})
    if (output.failure) record = withFields(record, output.failure)
  }
  return withFields(record, { durationMs: Date.now() - started })
}

function withFields(record: NodeReport, fields: Partial<NodeResult>): NodeReport {
  return { ...record, result: { ...record.result, ...fields } }
}
