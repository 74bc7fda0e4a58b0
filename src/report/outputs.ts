/**
 * The step's outputs (README "Outputs"): `results`, `succeeded`,
 * `failed`, `hosts`, each a JSON array.
 */
import * as core from '@actions/core'
import type { NodeResult, UnitChanges } from '../model.js'
import { isSuccess } from '../model.js'

export type SetOutput = (name: string, value: string) => void

/** A result with exactly the spec's fields, in the spec's order (and nothing else that may ride along). */
export function resultForOutput(r: NodeResult): NodeResult {
  const changes: UnitChanges | null = r.changes
    ? {
        stop: [...r.changes.stop],
        restart: [...r.changes.restart],
        start: [...r.changes.start],
        reload: [...r.changes.reload],
        restartSystemd: r.changes.restartSystemd
      }
    : null
  return {
    node: r.node,
    hostname: r.hostname,
    profiles: [...r.profiles],
    status: r.status,
    stage: r.stage,
    exitCode: r.exitCode,
    durationMs: Math.round(r.durationMs),
    dryRun: r.dryRun,
    changes,
    health: r.health
      ? {
          ok: r.health.ok,
          newlyFailed: [...r.health.newlyFailed],
          alreadyFailed: [...r.health.alreadyFailed],
          output: r.health.output
        }
      : null,
    packages: r.packages
      ? {
          upgraded: r.packages.upgraded.map(c => ({ ...c })),
          downgraded: r.packages.downgraded.map(c => ({ ...c })),
          added: r.packages.added.map(c => ({ ...c })),
          removed: r.packages.removed.map(c => ({ ...c })),
          sizeDelta: r.packages.sizeDelta
        }
      : null,
    error: r.error
  }
}

/**
 * Sets the four outputs. `hosts` is what `targets` resolved to, in order;
 * `succeeded`/`failed` split `results` by status.
 */
export function writeOutputs(
  results: readonly NodeResult[],
  /** The node names `targets` resolved to: the `hosts` output, ready for a matrix. */
  nodeNames: readonly string[],
  setOutput: SetOutput = core.setOutput
): void {
  setOutput('results', JSON.stringify(results.map(resultForOutput)))
  setOutput('succeeded', JSON.stringify(results.filter(r => isSuccess(r.status)).map(r => r.node)))
  setOutput('failed', JSON.stringify(results.filter(r => !isSuccess(r.status)).map(r => r.node)))
  setOutput('hosts', JSON.stringify([...nodeNames]))
}
