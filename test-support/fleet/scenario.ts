/**
 * The scenario file tells the stand-in how each node behaves. It is re-read
 * by every stand-in run, so a test can change a node between runs.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { Behaviour, FleetNodeSpec, ScenarioFile, ScenarioNode } from './types.js'

export const DEFAULT_FLOOD_BYTES = 1024 * 1024

export function scenarioNode(spec: FleetNodeSpec): ScenarioNode {
  return {
    behaviour: spec.behaviour ?? 'ok',
    deployRsVersion: spec.deployRsVersion ?? 'master',
    hostCostMs: spec.hostCostMs ?? 0,
    floodBytes: spec.floodBytes ?? DEFAULT_FLOOD_BYTES,
    floodStream: spec.floodStream ?? 'both',
    changes: spec.changes ?? {},
    extraLines: spec.extraLines ?? []
  }
}

/** Written to a temp name and renamed: a stand-in never reads half a file. */
export async function writeScenario(path: string, scenario: ScenarioFile): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, JSON.stringify(scenario, null, 2) + '\n')
  await rename(temp, path)
}

export async function setNodeBehaviour(
  path: string,
  node: string,
  behaviour: Behaviour
): Promise<void> {
  const scenario = JSON.parse(await readFile(path, 'utf8')) as ScenarioFile
  const current = scenario.nodes[node]
  if (!current) throw new Error(`no node ${node} in the fleet`)
  scenario.nodes[node] = { ...current, behaviour }
  await writeScenario(path, scenario)
}
