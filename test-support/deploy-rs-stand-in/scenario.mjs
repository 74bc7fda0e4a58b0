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
 * @typedef {{ behaviour: string, hostCostMs: number, floodBytes: number,
 *   floodStream: 'stdout' | 'stderr' | 'both', changes: Changes,
 *   extraLines: string[] }} NodeScenario
 */

export const BEHAVIOURS = [
  'ok',
  'build-fails',
  'activation-fails',
  'rollback',
  'rollback-exit-0',
  'confirm-timeout',
  'hang',
  'killed',
  'dry-pre-switch-fails',
  'dry-incompatible-init',
  'flood'
]

/** @type {NodeScenario} */
const DEFAULT_NODE = {
  behaviour: 'ok',
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
    return found
  }
}
