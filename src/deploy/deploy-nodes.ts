import { childEnvironment } from '../commands/child-env.js'
import { WORKSPACE_MARKER } from '../commands/leftover-processes.js'
import type { Launcher } from '../commands/process.js'
import type { Settings } from '../inputs.js'
import type { NodeReport } from '../model.js'
import type { Plan } from '../plan/plan.js'
import type { SshSetup } from '../ssh/prepare.js'
import { sshOptionsFor } from '../ssh/workspace.js'
import { deployArgv } from './command.js'
import type { NodeStage } from './node-pipeline.js'
import { notStarted } from './outcome.js'
import { runDeploys } from './runner.js'

export interface DeployNodesInput {
  plan: Plan
  settings: Pick<Settings, 'deployArgs' | 'sshUser' | 'parallel' | 'failFast' | 'hostTimeoutMs'>
  setup: SshSetup
  /** The deploy-rs command as words. */
  deployRs: readonly string[]
  launch: Launcher
  cancelled: AbortSignal
  /** Per-node stages before deploy-rs and after it succeeded. */
  before: readonly NodeStage[]
  after: readonly NodeStage[]
  canary?: ReadonlySet<string>
  /** Called once per node when its record is final. */
  onSettled?: (report: NodeReport) => Promise<void>
  echo: (line: string) => void
}

/**
 * Deploys every planned node whose host key is known and returns one record
 * per planned node, in plan order: hosts without a key are `unreachable` at
 * keyscan (and with fail-fast, stop the rest before anything starts).
 */
export function deployNodes(input: DeployNodesInput): Promise<NodeReport[]> {
  const { plan, settings, setup } = input
  const unreachable = new Map<string, NodeReport>()
  for (const node of plan.nodes) {
    const reason = setup.unreachable.get(node.name)
    if (reason) {
      unreachable.set(node.name, notStarted(node, plan.dryRun, 'unreachable', reason, 'keyscan'))
    }
  }
  const jobs = plan.nodes.map(node => ({
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
  return runDeploys(jobs, {
    parallel: settings.parallel,
    failFast: settings.failFast,
    hostTimeoutMs: settings.hostTimeoutMs,
    dryRun: plan.dryRun,
    logsDir: setup.workspace.logsDir,
    // The marker lets the post step find and stop these processes should the main step be killed.
    env: childEnvironment({ [WORKSPACE_MARKER]: setup.workspace.dir }),
    launch: input.launch,
    abortSignal: input.cancelled,
    echo: input.echo,
    before: input.before,
    after: input.after,
    canary: input.canary,
    settledBefore: unreachable,
    onSettled: input.onSettled
  })
}
