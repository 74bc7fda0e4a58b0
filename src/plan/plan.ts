import type { Nix } from '../commands/nix.js'
import type { Settings } from '../inputs.js'
import { InputError } from '../inputs.js'
import { parseInventory } from './inventory.js'
import { resolveTargets, type PlannedNode } from './targets.js'

export interface Plan {
  flake: string
  dryRun: boolean
  nodes: PlannedNode[]
}

/** One `nix eval` lists the nodes; targets are resolved against them before anything connects. */
export async function makePlan(settings: Settings, dryRun: boolean, nix: Nix): Promise<Plan> {
  if (
    dryRun &&
    settings.deployArgs.deploy.some(arg => arg.split('=')[0] === '--rollback-succeeded')
  ) {
    throw new InputError([
      'deploy-args: --rollback-succeeded cannot be set on a dry run: the action passes --rollback-succeeded false so that a failed dry activation cannot roll back real generations.'
    ])
  }
  const json = await nix.evalDeployNodes(settings.flake, settings.deployArgs.nix)
  const inventory = parseInventory(json, settings.flake)
  const nodes = resolveTargets(settings.targets, inventory)
  return { flake: settings.flake, dryRun, nodes }
}
