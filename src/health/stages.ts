/**
 * The health check as two stages of a node's pipeline: the baseline right
 * before deploy-rs starts on the node, the check once deploy-rs succeeded.
 * No stage at all when the check is off (no extra ssh session).
 */
import type { RunCommand } from '../commands/process.js'
import type { NodeStage } from '../deploy/node-pipeline.js'
import { sshUserFor } from '../ssh/remote-command.js'
import type { Workspace } from '../ssh/workspace.js'
import type { PlannedNode } from '../plan/targets.js'
import { checkHealth, readBaseline, type HealthBaseline, type HealthContext } from './check.js'
import type { HealthCheck } from './mode.js'

export interface HealthStageOptions {
  check: HealthCheck
  timeoutMs: number
  workspace: Workspace
  /** The ssh-user input (deploy-rs --ssh-user), or null. */
  sshUser: string | null
  /** Runs the ssh command (src/commands/process.ts runCommand; a fake in tests). */
  run?: RunCommand
  /** One line per node about its check, for the job log. */
  log: (line: string) => void
}

export function healthStages(options: HealthStageOptions): {
  before: NodeStage[]
  after: NodeStage[]
} {
  const { check } = options
  if (check.kind === 'off') return { before: [], after: [] }
  const baselines = new Map<string, HealthBaseline>()
  const context = (node: PlannedNode, abortSignal: AbortSignal): HealthContext => ({
    workspace: options.workspace,
    target: node,
    user: sshUserFor(node, options.sshUser),
    timeoutMs: options.timeoutMs,
    abortSignal,
    run: options.run
  })
  const before: NodeStage = {
    name: 'health baseline',
    run: async (node, abortSignal) => {
      const baseline = await readBaseline(check, context(node, abortSignal))
      if (baseline !== 'cancelled') baselines.set(node.name, baseline)
      return {}
    }
  }
  const after: NodeStage = {
    name: 'health check',
    run: async (node, abortSignal) => {
      const baseline = baselines.get(node.name)
      if (baseline === undefined) return {}
      const verdict = await checkHealth(baseline, context(node, abortSignal))
      // Cancelled during the check: the node stays as deploy-rs left it, unchecked.
      if (verdict === 'cancelled') return {}
      options.log(
        `${node.name}: ${verdict.error ?? verdict.note ?? `health check passed${alreadyNote(verdict.health?.alreadyFailed ?? [])}`}`
      )
      return {
        fields: {
          health: verdict.health,
          healthDetail: { journals: verdict.journals, note: verdict.note }
        },
        ...(verdict.error !== null
          ? { failure: { status: 'unhealthy', stage: 'health', error: verdict.error } }
          : {})
      }
    }
  }
  return { before: [before], after: [after] }
}

function alreadyNote(units: readonly string[]): string {
  return units.length > 0 ? ` (already failed before the deploy: ${units.join(', ')})` : ''
}
