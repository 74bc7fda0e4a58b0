/**
 * The data that flows between the stages of a run. Each stage imports these
 * types; none imports a later stage.
 */
import type { PackageDiff } from './packages/closure-diff.js'

/** Final state of one targeted node (README "Statuses"). */
export type NodeStatus =
  | 'deployed'
  | 'dry-run'
  | 'failed'
  | 'rolled-back'
  | 'unhealthy'
  | 'unreachable'
  | 'timed-out'
  | 'skipped'
  | 'cancelled'

export const SUCCESS_STATUSES: readonly NodeStatus[] = ['deployed', 'dry-run']

export function isSuccess(status: NodeStatus): boolean {
  return SUCCESS_STATUSES.includes(status)
}

/** Where a node's deploy stopped (README "Statuses"). */
export type Stage =
  'keyscan' | 'check' | 'eval' | 'build' | 'push' | 'activate' | 'confirm' | 'health'

/** Units that `switch-to-configuration dry-activate` said it would touch. */
export interface UnitChanges {
  stop: string[]
  restart: string[]
  start: string[]
  reload: string[]
  restartSystemd: boolean
}

/** The `health` field of a result: the check after the switch (README "Health checks"). */
export interface HealthResult {
  ok: boolean
  /** Units failed after the deploy that had not failed before it. */
  newlyFailed: string[]
  /** Units failed after the deploy that had failed before it already (not held against the node). */
  alreadyFailed: string[]
  /** The last lines of what the check printed. */
  output: string
}

/** The last journal lines of one newly failed unit, as the host printed them (not escaped). */
export interface UnitJournal {
  unit: string
  lines: string[]
}

/** What the report shows of a health check beyond the `health` field. */
export interface HealthDetail {
  /** The journal of each newly failed unit. */
  journals: UnitJournal[]
  /** Why no check ran although one was asked for (e.g. no systemd on the host), or null. */
  note: string | null
}

/** One object of the `results` output, exactly as the spec names its fields. */
export interface NodeResult {
  node: string
  hostname: string
  profiles: string[]
  status: NodeStatus
  stage: Stage | null
  exitCode: number | null
  durationMs: number
  dryRun: boolean
  changes: UnitChanges | null
  /** null when no check ran (off, dry run, not deployed, no systemd on `auto`). */
  health: HealthResult | null
  error: string | null
  /** For the report only, never in the `results` output. */
  healthDetail?: HealthDetail
  /** What the change really changes, package by package (null: unknown; see packagesNote). */
  packages?: PackageDiff | null
}

/** A result plus what the report needs from the node's log. */
export interface NodeReport {
  result: NodeResult
  /** Full log of this node on disk (inside the workspace), or null when it never ran. */
  logFile: string | null
  /** Last lines of the log, ANSI codes stripped, oldest first. */
  logTail: string[]
  /** How many bytes the node's deploy-rs printed in all. */
  logBytes: number
  /** What the log file lacks, when it does not hold the whole log (the result is unaffected). */
  logFileIssue?: LogFileIssue | null
  /** The new store path of each deployed profile, from deploy-rs's plan. */
  newPaths?: Readonly<Record<string, string>>
  /** Why the node's packages are unknown though its host was reached (first deploy...). */
  packagesNote?: string | null
}

/** Why a node's log file is incomplete: it reached its size cap, or writing it failed. */
export type LogFileIssue =
  | { kind: 'capped'; capBytes: number; cutBytes: number }
  | { kind: 'failed'; error: string; keptBytes: number }

/** What the report says about the run as a whole. */
export interface RunContext {
  flake: string
  dryRun: boolean
  event: string
  sha: string
  actor: string
  /** e.g. https://github.com/o/r, or null outside GitHub. */
  repositoryUrl: string | null
  /** Link to this workflow run, or null outside GitHub. */
  runUrl: string | null
  /** Output of a failed `nix flake check`, last lines, when checks failed. */
  checkFailure: string[] | null
  /** A run-level failure that stopped every node (e.g. evaluation), or null. */
  runError: string | null
  /** True when the job was cancelled while deploying. */
  cancelled: boolean
  /** The canary nodes (deployed first), when the run had any. */
  canary?: readonly string[]
}
