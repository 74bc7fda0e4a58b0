// @ts-check
/**
 * The scenario: how each node behaves (test-support/fleet/types.ts, ScenarioFile),
 * from the JSON file named by DEPLOY_RS_STAND_IN_SCENARIO. Read once per run.
 * Nodes it does not list (or no scenario at all) behave 'ok'.
 */
import { readFileSync } from 'node:fs'

/**
 * @typedef {{ stop?: string[], notStop?: string[], restartSystemd?: boolean,
 *   reload?: string[], restart?: string[], start?: string[] }} Changes
 * @typedef {'master' | '2023' | '2022'} DeployRsVersion
 * @typedef {{ behaviour: string, deployRsVersion: DeployRsVersion, hostCostMs: number,
 *   floodBytes: number, floodStream: 'stdout' | 'stderr' | 'both', changes: Changes,
 *   extraLines: string[] }} NodeScenario
 */

export const BEHAVIOURS = [
  'ok',
  'build-fails',
  'activation-fails',
  'ssh-lost',
  'confirm-timeout',
  'hang',
  'killed',
  'dry-pre-switch-fails',
  'dry-incompatible-init',
  'dry-not-nixos',
  'dry-lock-busy',
  'flood'
]

export const DEPLOY_RS_VERSIONS = ['master', '2023', '2022']

/** @type {NodeScenario} */
const DEFAULT_NODE = {
  behaviour: 'ok',
  deployRsVersion: 'master',
  hostCostMs: 0,
  floodBytes: 1024 * 1024,
  floodStream: 'both',
  changes: {},
  extraLines: []
}

/** @returns {(node: string) => NodeScenario} */
export function loadScenario() {
  const path = process.env.DEPLOY_RS_STAND_IN_SCENARIO
  /** @type {Record<string, Partial<NodeScenario>>} */
  let nodes = {}
  if (path) nodes = JSON.parse(readFileSync(path, 'utf8')).nodes ?? {}
  return node => {
    const found = { ...DEFAULT_NODE, ...(Object.hasOwn(nodes, node) ? nodes[node] : {}) }
    if (!BEHAVIOURS.includes(found.behaviour)) {
      throw new Error(`scenario: unknown behaviour ${found.behaviour} for node ${node}`)
    }
    if (!DEPLOY_RS_VERSIONS.includes(found.deployRsVersion)) {
      throw new Error(`scenario: unknown deployRsVersion ${found.deployRsVersion} for node ${node}`)
    }
    return found
  }
}
