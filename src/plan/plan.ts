import type { Nix } from '../commands/nix.js'
import type { Settings } from '../inputs.js'
import { InputError } from '../inputs.js'
import { parseInventory, PlanError } from './inventory.js'
import { reviewSshOpts } from './ssh-opts.js'
import { resolveTargets, type PlannedNode } from './targets.js'

export interface Plan {
  flake: string
  dryRun: boolean
  nodes: PlannedNode[]
  /** Names of the nodes deployed first (the canary input), in plan order. */
  canary: string[]
  /** Things the user should fix that do not stop the run (one line each). */
  warnings: string[]
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
  const warnings = nodes.flatMap(node => checkAddressable(node, settings.flake))
  // Checked against the flake like targets; with targets: all, this is the only check.
  const canaryNames = new Set(canaryNodes(settings.canary, inventory).map(node => node.name))
  const canary = nodes.map(node => node.name).filter(name => canaryNames.has(name))
  return { flake: settings.flake, dryRun, nodes, canary, warnings }
}

/**
 * deploy-rs cannot name a node holding a double quote, and splits --ssh-opts
 * on spaces: say so before anything runs rather than fail obscurely later.
 * sshOpts that would weaken host-key checking are refused here too; those
 * that ssh ignores anyway are returned as warnings.
 */
function checkAddressable(node: PlannedNode, flake: string): string[] {
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
  const { refused, ignored } = reviewSshOpts(node.sshOpts)
  if (refused !== null) {
    throw new PlanError(
      `${where}: sshOpts ${JSON.stringify(refused.option)} cannot be used: it ${refused.why}. Remove it; pin host keys with the known-hosts input.`
    )
  }
  return ignored.map(
    option =>
      `${where}: sshOpts ${JSON.stringify(option)} has no effect: the action checks host keys strictly against its own known_hosts, and its options come first. Remove it; pin host keys with the known-hosts input.`
  )
}

function canaryNodes(canary: readonly string[], inventory: Parameters<typeof resolveTargets>[1]) {
  try {
    return resolveTargets(canary, inventory)
  } catch (error) {
    if (error instanceof PlanError) throw new PlanError(`canary: ${error.message}`)
    throw error
  }
}
