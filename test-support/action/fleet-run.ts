/** Runs the bundled action against a sandbox fleet, with the fleet's deploy and nix on PATH. */
import { readdir } from 'node:fs/promises'
import type { Fleet } from '../fleet/index.js'
import { runAction, type ActionRun, type ActionRunOptions } from './run-action.js'

export interface FleetRunOptions extends Omit<ActionRunOptions, 'inputs'> {
  inputs?: Record<string, string>
}

/** Inputs every fleet run needs: the flake and the fleet's client key; fast keyscans. */
export function fleetInputs(fleet: Fleet): Record<string, string> {
  return {
    flake: fleet.flakeDir,
    'ssh-private-key': fleet.clientKey.privateKeyText,
    'keyscan-timeout': '2',
    'github-token': 'ghs_e2eTokenThatMustNeverBePrinted0123'
  }
}

export function runOnFleet(fleet: Fleet, options: FleetRunOptions = {}): Promise<ActionRun> {
  return runAction({
    ...options,
    inputs: { ...fleetInputs(fleet), ...options.inputs },
    env: { ...fleet.env, PATH: `${fleet.binDir}:${process.env.PATH}`, ...options.env }
  })
}

/** Nodes by status, from the results output. */
export function statuses(run: ActionRun): Record<string, string> {
  return Object.fromEntries(run.results.map(r => [String(r.node), String(r.status)]))
}

/** Everything left in a directory (recursively listed names). */
export async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [])) as string[]
}

/**
 * Everything a person could read from a run: the job log as the runner shows
 * it (without the `::add-mask::` commands, which the runner consumes), the
 * summary and the outputs.
 */
export function visibleText(run: ActionRun): string {
  const log = (run.main.stdout + (run.post?.stdout ?? ''))
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  return [
    log,
    run.main.stderr,
    run.post?.stderr ?? '',
    run.summary,
    JSON.stringify(run.outputs)
  ].join('\n')
}
