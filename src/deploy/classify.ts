import type { NodeStatus, Stage, UnitChanges } from '../model.js'
import { DeployLogParser, type DeployLogSummary, type LoggedMessage } from './log-parser.js'

/** How one deploy-rs process for one node ended. */
export interface ClassifyInput {
  /** The parser that read the node's output, or its summary(). */
  parser: DeployLogParser | DeployLogSummary
  /** Exit code, or null when the process ended by a signal. */
  exitCode: number | null
  /** Signal that ended the process (e.g. `SIGKILL`), or null. */
  signal: string | null
  dryRun: boolean
  /** The action stopped the process because `host-timeout` elapsed. */
  timedOut: boolean
  /** The action stopped the process because the job was cancelled. */
  cancelled: boolean
  node: string
  /** The host timeout, for the error text of timed-out nodes. */
  timeoutMs?: number
  /** Set when deploy-rs could not be started at all (e.g. not found): the one-line reason. */
  startError?: string | null
}

export interface Classification {
  status: NodeStatus
  stage: Stage | null
  /** One line, ANSI-free, at most MAX_ERROR_LENGTH characters; null for deployed / dry-run. */
  error: string | null
  /** Dry runs only (see classifyRun); null otherwise. */
  changes: UnitChanges | null
}

export const MAX_ERROR_LENGTH = 300

/** Collapses whitespace to one line and cuts it to `max` characters. */
export function oneLine(text: string, max = MAX_ERROR_LENGTH): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/**
 * Decides a node's status from deploy-rs's exit and what it printed
 * (action-spec.md "status", deploy-rs-facts.md). In order:
 *
 * 0. deploy-rs could not be started → `failed`, stage null;
 * 1. cancelled / timed out (the action stopped it) → `cancelled` / `timed-out`, stage reached;
 * 2. a rollback that itself failed → `failed` (the node's state is unknown);
 * 3. any rollback evidence, whatever the exit code (old versions exit 0) → `rolled-back`,
 *    stage `confirm` if the magic-rollback confirmation failed, else `activate`;
 * 4. killed by a signal it did not get from us → `failed`;
 * 5. exit 0 → `deployed` / `dry-run`, except a dry run that printed a failure deploy-rs
 *    ignores (`Pre-switch checks failed`, incompatible `init`) and a run whose last
 *    deploy-rs line was an ERROR (old versions) → `failed`;
 * 6. exit 2 without a deploy-rs error → `failed`, stage null: deploy-rs rejected its arguments;
 * 7. other exits: an ssh connection failure while pushing (or building on the target)
 *    → `unreachable`; else `failed` with the stage the error points at.
 *
 * `changes`: for dry runs, the parsed unit changes — always for `dry-run`
 * (empty lists when nothing would change), and for any other status only when
 * at least one `would ...` line was parsed (else null). Null for real deploys.
 */
export function classifyRun(input: ClassifyInput): Classification {
  const { node } = input
  const log = input.parser instanceof DeployLogParser ? input.parser.summary() : input.parser
  const partialChanges = input.dryRun && log.sawChanges ? log.changes : null
  const failed = (status: NodeStatus, stage: Stage | null, error: string): Classification => ({
    status,
    stage,
    error: oneLine(error),
    changes: partialChanges
  })

  if (input.startError) return failed('failed', null, input.startError)
  if (input.cancelled) {
    const where = log.stage ? ` during ${log.stage}` : ''
    return failed('cancelled', log.stage, `the job was cancelled; deploy-rs was stopped${where}`)
  }
  if (input.timedOut) {
    const limit =
      input.timeoutMs === undefined ? 'the host timeout' : formatDuration(input.timeoutMs)
    const where = log.stage ? ` (stopped during ${log.stage})` : ''
    return failed('timed-out', log.stage, `deploy-rs did not finish within ${limit}${where}`)
  }

  const stage = failureStage(log)
  const afterActivation: Stage = stage === 'confirm' ? 'confirm' : 'activate'

  if (log.rollback && log.rollbackFailure) {
    return failed(
      'failed',
      afterActivation,
      `rolling back node ${node} failed, its state is unknown: ${log.rollbackFailure.message}`
    )
  }
  if (log.rollback) {
    const base =
      log.rollback.source === 'deploy'
        ? log.rollback.message
        : `Deployment to node ${node} failed, rolled back to previous generation`
    const cause = rollbackCause(log)
    return failed('rolled-back', afterActivation, cause ? `${base}: ${cause}` : base)
  }

  if (input.signal !== null) {
    return failed('failed', stage, `deploy-rs was killed by ${input.signal}`)
  }
  if (input.exitCode === null) {
    return failed('failed', stage, 'deploy-rs ended without an exit code')
  }

  if (input.exitCode === 0) {
    if (input.dryRun && log.dryFailure !== null) {
      return failed('failed', 'activate', `dry activation failed: ${log.dryFailure}`)
    }
    if (log.errorAfterLastSuccess && log.deployErrors.length > 0) {
      return failed('failed', stage, `${describeError(log, node)} (deploy-rs still exited 0)`)
    }
    return input.dryRun
      ? { status: 'dry-run', stage: null, error: null, changes: log.changes }
      : { status: 'deployed', stage: null, error: null, changes: null }
  }

  if (input.exitCode === 2 && log.deployErrors.length === 0) {
    const reason = log.firstPlainError ?? lastNonEmpty(log.tail) ?? 'no message'
    return failed('failed', null, `deploy-rs rejected its arguments: ${reason}`)
  }

  const ssh = log.sshFailure
  if (
    ssh !== null &&
    ssh.stage === stage &&
    (stage === 'push' || (stage === 'build' && log.remoteBuild))
  ) {
    return failed('unreachable', stage, describeSshFailure(ssh.kind, ssh.message, node))
  }

  return failed(
    'failed',
    stage,
    log.deployErrors.length > 0 || log.remoteError
      ? describeError(log, node)
      : withDetail(`deploy-rs exited with code ${input.exitCode}`, log.commandError?.message)
  )
}

/**
 * deploy-rs error messages (upstream src/cli.rs, deploy.rs, push.rs, bin/activate.rs,
 * current and older wordings) and the stage each points at. First match wins.
 */
const MESSAGE_STAGES: readonly [RegExp, Stage][] = [
  [/^Failed to check deployment|checking command/, 'check'],
  [/^(Failed to evaluate deployment data|Error parsing flake|Failed to resolve target)/, 'eval'],
  [/^(Error processing deployment definitions|Failed to test for flake support)/, 'eval'],
  [/^(No node named|No profile named|Profile was provided without a node name)/, 'eval'],
  [/^Failed to build profile|Nix build command|show-derivation|Nix sign command/, 'build'],
  [/(deploy-rs-activate|activate-rs) does not exist/, 'build'],
  [/^Failed to push profile|Nix copy command/, 'push'],
  [/^Error confirming deployment|Confirming activation over SSH/, 'confirm'],
  [/Failed to get activation confirmation|Timeout elapsed for confirmation/, 'confirm'],
  [/^Failed to deploy profile|Activating over SSH|activation command over SSH/, 'activate'],
  [/Waiting over SSH|wait command over SSH|activation script|setting profile/, 'activate']
]

/** Stage a deploy-rs error message points at, whatever the log said before it. */
export function stageOfMessage(message: string): Stage | null {
  return MESSAGE_STAGES.find(([pattern]) => pattern.test(message))?.[1] ?? null
}

/** The stage the failure happened in: named by the error message, else where the log was. */
export function failureStage(log: DeployLogSummary): Stage | null {
  for (let i = log.deployErrors.length - 1; i >= 0; i--) {
    const stage = stageOfMessage(log.deployErrors[i].message)
    if (stage) return stage
  }
  if (log.remoteError) {
    const stage = stageOfMessage(log.remoteError.message)
    if (stage) return stage
  }
  const last = log.deployErrors.at(-1)
  return last?.stage ?? log.stage
}

function rollbackCause(log: DeployLogSummary): string | null {
  if (log.remoteError) return log.remoteError.message
  const last = log.deployErrors.at(-1)
  return last ? last.message : null
}

/** The last deploy-rs error, with the detail it lacks when it only says "bad exit code". */
function describeError(log: DeployLogSummary, node: string): string {
  const last: LoggedMessage | undefined = log.deployErrors.at(-1) ?? log.remoteError ?? undefined
  if (!last) return `deploy-rs failed on node ${node}`
  let message = last.message
  // deploy-rs prints the node twice instead of the cause: "Failed to push profile to node web: web".
  const duplicated = /^(Failed to (?:build|push) profile (?:on|to) node (\S+)): (\S+)$/.exec(
    message
  )
  const vague = duplicated !== null && duplicated[2] === duplicated[3]
  if (vague) message = duplicated[1]
  if (vague || /bad exit code.*: (?:Some\(-?\d+\)|None)$/.test(message)) {
    const stage = stageOfMessage(message) ?? last.stage
    const detail =
      sameStage(log.commandError, stage) ??
      sameStage(log.sshFailure, stage) ??
      (stage === 'activate' || stage === 'confirm' ? log.remoteError?.message : undefined)
    if (detail && detail !== message) message = withDetail(message, detail)
  }
  return message
}

function sameStage(entry: LoggedMessage | null, stage: Stage | null): string | undefined {
  return entry && entry.stage === stage ? entry.message : undefined
}

function withDetail(message: string, detail: string | undefined): string {
  return detail ? `${message} — ${detail}` : message
}

function describeSshFailure(kind: string, line: string, node: string): string {
  switch (kind) {
    case 'host-key':
      return `host key verification failed for ${node}: the key the host presented does not match the pinned or scanned known_hosts entry`
    case 'auth':
      return `ssh authentication to ${node} failed: ${line}`
    case 'dns':
      return `cannot resolve the hostname of ${node}: ${line}`
    default:
      return `cannot connect to ${node} over ssh: ${line}`
  }
}

function lastNonEmpty(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].trim() !== '') return lines[i]
  return undefined
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000)
  if (seconds < 120) return `${seconds} s`
  const minutes = Math.round((ms / 60000) * 10) / 10
  return `${minutes} min`
}
