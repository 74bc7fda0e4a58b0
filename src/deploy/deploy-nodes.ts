import { childEnvironment } from '../commands/child-env.js'
import { WORKSPACE_MARKER } from '../commands/leftover-processes.js'
import type { Settings } from '../inputs.js'
import type { NodeReport } from '../model.js'
import type { Plan } from '../plan/plan.js'
import type { PlannedNode } from '../plan/targets.js'
import type { SshSetup } from '../ssh/prepare.js'
import { sshOptionsFor } from '../ssh/workspace.js'
import { deployArgv } from './command.js'
import type { Launcher } from './launcher.js'
import { notStarted, runDeploys } from './runner.js'

export interface DeployNodesInput {
  plan: Plan
  settings: Settings
  setup: SshSetup
  /** The deploy-rs command as words. */
  deployRs: readonly string[]
  launch: Launcher
  cancelled: AbortSignal
  /** Deployment records per node, or null. */
  hooks: {
    onStart: (node: PlannedNode) => Promise<void>
    onFinish: (report: NodeReport) => Promise<void>
  } | null
  echo: (line: string) => void
}

const FAIL_FAST_SKIP = 'not started: fail-fast stopped the run after an earlier node failed'

/**
 * Deploys every planned node whose host key is known and returns one report
 * per planned node, in plan order: hosts without a key are `unreachable` at
 * keyscan (and with fail-fast, stop the rest before anything starts).
 */
export async function deployNodes(input: DeployNodesInput): Promise<NodeReport[]> {
  const { plan, settings, setup } = input
  const failedEarly = new Map<string, NodeReport>()
  for (const node of plan.nodes) {
    const reason = setup.unreachable.get(node.name)
    if (reason) {
      failedEarly.set(node.name, notStarted(node, plan.dryRun, 'unreachable', reason, 'keyscan'))
    }
  }
  const jobs = plan.nodes
    .filter(node => !failedEarly.has(node.name))
    .map(node => ({
      node,
      argv: deployArgv(node, {
        deployRs: input.deployRs,
        deployArgs: settings.deployArgs,
        flake: plan.flake,
        dryRun: plan.dryRun,
        sshUser: settings.sshUser,
        sshOpts: sshOptionsFor(setup.workspace, node.sshOpts)
      })
    }))
  const failFastTriggered = settings.failFast && failedEarly.size > 0
  const ran = await runDeploys(failFastTriggered ? [] : jobs, {
    ...input.hooks,
    parallel: settings.parallel,
    failFast: settings.failFast,
    hostTimeoutMs: settings.hostTimeoutMs,
    dryRun: plan.dryRun,
    logsDir: setup.workspace.logsDir,
    // The marker lets the post step find and stop these processes should the main step be killed.
    env: childEnvironment({ [WORKSPACE_MARKER]: setup.workspace.dir }),
    launch: input.launch,
    abortSignal: input.cancelled,
    echo: input.echo
  })
  const byNode = new Map(ran.map(report => [report.result.node, report]))
  return plan.nodes.map(
    node =>
      failedEarly.get(node.name) ??
      byNode.get(node.name) ??
      notStarted(node, plan.dryRun, 'skipped', FAIL_FAST_SKIP)
  )
}
