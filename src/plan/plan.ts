import type { Nix } from '../commands/nix.js'
import type { Settings } from '../inputs.js'
import { InputError } from '../inputs.js'
import { parseInventory, PlanError } from './inventory.js'
import { resolveTargets, type PlannedNode } from './targets.js'

export interface Plan {
  flake: string
  dryRun: boolean
  nodes: PlannedNode[]
}

/** One `nix eval` lists the nodes; targets are resolved against them before anything connects. */
export async function makePlan(
  settings: Settings,
  dryRun: boolean,
  nix: Nix,
  abortSignal?: AbortSignal
): Promise<Plan> {
  if (
    dryRun &&
    settings.deployArgs.deploy.some(arg => arg.split('=')[0] === '--rollback-succeeded')
  ) {
    throw new InputError([
      'deploy-args: --rollback-succeeded cannot be set on a dry run: the action passes --rollback-succeeded false so that a failed dry activation cannot roll back real generations.'
    ])
  }
  const json = await nix.evalDeployNodes(settings.flake, settings.deployArgs.nix, abortSignal)
  const inventory = parseInventory(json, settings.flake)
  const nodes = resolveTargets(settings.targets, inventory)
  for (const node of nodes) checkAddressable(node, settings.flake)
  return { flake: settings.flake, dryRun, nodes }
}

/**
 * deploy-rs cannot name a node holding a double quote, and splits --ssh-opts
 * on spaces: say so before anything runs rather than fail obscurely later.
 */
function checkAddressable(node: PlannedNode, flake: string): void {
  const where = `flake '${flake}': deploy.nodes.${JSON.stringify(node.name)}`
  if ([node.name, ...node.targetProfiles].some(name => name.includes('"'))) {
    throw new PlanError(
      `${where}: a node or profile name containing '"' cannot be passed to deploy-rs; rename it.`
    )
  }
  const spaced = node.sshOpts.find(opt => /\s/.test(opt))
  if (spaced !== undefined) {
    throw new PlanError(
      `${where}: sshOpts element ${JSON.stringify(spaced)} contains a blank, which deploy-rs's --ssh-opts splits apart; move that option into the ssh-config input (e.g. 'Host ${node.hostname}' followed by the option).`
    )
  }
}
