import type { NodeReport } from '../model.js'
import type { PlannedNode } from '../plan/targets.js'
import { notStarted, startVerdict } from './outcome.js'

export interface ScheduleOptions {
  parallel: number
  failFast: boolean
  dryRun: boolean
  /** Nodes deployed first; the rest start only when every one of them succeeded. */
  canary?: ReadonlySet<string>
  abortSignal: AbortSignal
  /** Records settled before anything starts (e.g. unreachable at keyscan): fail-fast counts them. */
  settledBefore?: ReadonlyMap<string, NodeReport>
  /** Called once per node when its record is final, in the order nodes settle. */
  onSettled?: (report: NodeReport) => Promise<void>
}

/**
 * Owns the order of a run: canary nodes, then the rest, each phase at most
 * `parallel` at once, in plan order. Returns one record per node, in plan order.
 */
export async function scheduleNodes<T extends { node: PlannedNode }>(
  items: readonly T[],
  options: ScheduleOptions,
  runOne: (item: T, index: number) => Promise<NodeReport>
): Promise<NodeReport[]> {
  const records: (NodeReport | undefined)[] = items.map(item =>
    options.settledBefore?.get(item.node.name)
  )
  const settled = (): NodeReport[] => records.filter(record => record !== undefined)
  const indexes = items.map((_, index) => index).filter(index => !records[index])
  const isCanary = (index: number): boolean => options.canary?.has(items[index].node.name) ?? false
  const canaries = indexes.filter(isCanary)

  const runPhase = async (phase: number[], waitsFor: number[]): Promise<void> => {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < phase.length) {
        const index = phase[next++]
        const item = items[index]
        const verdict = startVerdict({
          cancelled: options.abortSignal.aborted,
          failFast: options.failFast,
          settled: settled(),
          canaries: waitsFor.map(canary => records[canary]).filter(record => record !== undefined)
        })
        const record = verdict
          ? notStarted(item.node, options.dryRun, verdict.status, verdict.reason)
          : await runOne(item, index)
        records[index] = record
        await options.onSettled?.(record)
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.parallel, phase.length) }, worker))
  }
  await runPhase(canaries, [])
  await runPhase(
    indexes.filter(index => !isCanary(index)),
    canaries
  )
  return records.map(record => record!)
}
