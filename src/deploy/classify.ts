import type { NodeResult, NodeStatus, Stage } from '../model.js'
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
  /**
   * The profiles this call deploys on the node. A NixOS `system` profile's dry run must
   * print `would activate the configuration...`; other profiles print no `would` lines.
   */
  profiles: readonly string[]
  /** The host timeout, for the error text of timed-out nodes. */
  timeoutMs?: number
  /** Set when deploy-rs could not be started at all (e.g. not found): the one-line reason. */
  startError?: string | null
}

/**
 * deploy-rs's verdict: the part of the node's result that its output decides.
 * `error` is one line, ANSI-free, at most MAX_ERROR_LENGTH characters; null for
 * deployed / dry-run. `changes` for dry runs only (see classifyRun).
 */
export type Classification = Pick<NodeResult, 'status' | 'stage' | 'error' | 'changes'>

export const MAX_ERROR_LENGTH = 300

/** Collapses whitespace to one line and cuts it to `max` characters. */
export function oneLine(text: string, max = MAX_ERROR_LENGTH): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/**
 * Decides a node's status from deploy-rs's exit and what it printed
 * (README "Statuses"; deploy-rs's own output, serokell/deploy-rs src/). deploy-rs's own final
 * "rolled back to previous generation" line is printed after ANY activation
 * failure, so only what the host printed decides a rollback. In order:
 *
 * 0. deploy-rs could not be started → `failed`, stage null;
 * 1. cancelled / timed out (the action stopped it) → `cancelled` / `timed-out`, stage reached;
 * 2. a rollback that itself failed → `failed` (the node's state is unknown);
 * 3. host-side evidence, whatever the exit code (old versions exit 0): activate-rs
 *    de-activating, `[revoke]` lines, or a failed run left waiting for magic rollback's
 *    confirmation (activate-rs then rolls back by itself) → `rolled-back`, stage
 *    `confirm` or `activate`;
 * 4. killed by a signal it did not get from us → `failed`;
 * 5. exit 2 without a deploy-rs error → `failed`, stage null: deploy-rs rejected its arguments;
 * 6. exit 0 without an error after the last success line → `deployed` / `dry-run`, except a
 *    dry run that printed a refusal deploy-rs ignores, or a `system` profile's dry run
 *    that never printed `would activate the configuration...` → `failed`, stage `activate`;
 * 7. otherwise a failure (also exit 0 with a trailing ERROR: old versions): ssh itself
 *    failing while pushing (or building on the target) or at activation, before the host
 *    printed anything → `unreachable`; else `failed` with the stage the error points at.
 *
 * `changes`: for `dry-run`, the parsed unit changes when switch-to-configuration got
 * past its checks (`would activate the configuration...`), else null: unknown, never
 * "nothing". For other statuses of a dry run only when some `would ...` line was parsed.
 * Null for real deploys.
 */
export function classifyRun(input: ClassifyInput): Classification {
  const { node } = input
  const log = input.parser instanceof DeployLogParser ? input.parser.summary() : input.parser
  const partialChanges = input.dryRun && log.sawChanges ? log.changes : null
  const ended = (status: NodeStatus, stage: Stage | null, error: string): Classification => ({
    status,
    stage,
    error: oneLine(error),
    changes: partialChanges
  })

  if (input.startError) return ended('failed', null, input.startError)
  if (input.cancelled) {
    const where = log.stage ? ` during ${log.stage}` : ''
    return ended('cancelled', log.stage, `the job was cancelled; deploy-rs was stopped${where}`)
  }
  if (input.timedOut) {
    const limit =
      input.timeoutMs === undefined ? 'the host timeout' : formatDuration(input.timeoutMs)
    const where = log.stage ? ` (stopped during ${log.stage})` : ''
    return ended('timed-out', log.stage, `deploy-rs did not finish within ${limit}${where}`)
  }

  const stage = failureStage(log)
  const afterActivation: Stage = stage === 'confirm' ? 'confirm' : 'activate'
  // Releases before 2022-11 exit 0 after a failed activation, with an ERROR as the last word.
  const errorAtTheEnd =
    log.errorAfterLastSuccess && (log.deployErrors.length > 0 || log.rollbackClaim !== null)
  const runFailed = input.signal === null && (input.exitCode !== 0 || errorAtTheEnd)

  if (log.rollbackFailure) {
    return ended(
      'failed',
      afterActivation,
      `rolling back node ${node} failed, its state is unknown: ${log.rollbackFailure.message}`
    )
  }
  const rollback = hostRollback(log, stage, node, runFailed)
  if (rollback) return ended('rolled-back', rollback.stage, rollback.error)

  if (input.signal !== null) {
    return ended('failed', stage, `deploy-rs was killed by ${input.signal}`)
  }
  if (input.exitCode === null) {
    return ended('failed', stage, 'deploy-rs ended without an exit code')
  }
  if (input.exitCode === 2 && log.deployErrors.length === 0 && log.rollbackClaim === null) {
    const reason = log.firstPlainError ?? lastNonEmpty(log.tail) ?? 'no message'
    return ended('failed', null, `deploy-rs rejected its arguments: ${reason}`)
  }

  if (input.exitCode === 0 && !errorAtTheEnd) {
    if (!input.dryRun) return { status: 'deployed', stage: null, error: null, changes: null }
    const refused = dryRunRefusal(log, input.profiles)
    if (refused) return ended('failed', 'activate', `dry activation failed: ${refused}`)
    const known = log.sawWouldActivate || log.sawChanges
    return { status: 'dry-run', stage: null, error: null, changes: known ? log.changes : null }
  }
  const exitedZero = input.exitCode === 0 ? ' (deploy-rs still exited 0)' : ''

  const unreachable = sshUnreachable(log, stage, node)
  if (unreachable) return ended('unreachable', unreachable.stage, unreachable.error + exitedZero)

  const error =
    log.deployErrors.length > 0 || log.remoteError
      ? describeError(log, node)
      : log.rollbackClaim !== null
        ? withDetail(log.rollbackClaim, log.commandError?.message ?? log.panic ?? undefined)
        : withDetail(
            `deploy-rs exited with code ${input.exitCode}`,
            log.commandError?.message ??
              (log.panic ? `deploy-rs panicked: ${log.panic}` : undefined)
          )
  return ended('failed', stage, error + exitedZero)
}

/**
 * A host-side rollback (its stage and one-line reason), or null without host evidence.
 * An activation left waiting for magic rollback's confirmation that never came (a failed
 * confirmation, or deploy-rs dying on the way: upstream #287) is rolled back by activate-rs
 * on the host when its timeout elapses, whether or not its lines reach the runner.
 */
function hostRollback(
  log: DeployLogSummary,
  stage: Stage | null,
  node: string,
  runFailed: boolean
): { stage: Stage; error: string } | null {
  const cause = rollbackCause(log)
  const because = cause ? `: ${cause}` : ''
  const where: Stage = stage === 'confirm' ? 'confirm' : 'activate'
  if (log.rollback?.source === 'revoke') {
    return {
      stage: where,
      error: `a profile failed on ${node} and deploy-rs rolled back the profiles deployed before it${because}`
    }
  }
  if (log.rollback) {
    return {
      stage: where,
      error:
        where === 'confirm'
          ? `the activation on ${node} was not confirmed and the host rolled back to its previous generation${because}`
          : `the activation failed on ${node} and the host rolled back to its previous generation${because}`
    }
  }
  if (runFailed && log.awaitingConfirmation) {
    return {
      stage: 'confirm',
      error: `the activation on ${node} could not be confirmed; magic rollback returns the host to its previous generation${because}`
    }
  }
  return null
}

/** Why a dry run that deploy-rs called complete did not get through, or null. */
function dryRunRefusal(log: DeployLogSummary, profiles: readonly string[]): string | null {
  if (log.dryFailure !== null) return log.dryFailure
  if (!profiles.includes('system') || log.sawWouldActivate) return null
  const printed = log.dryActivations.flatMap(d => d.lines)
  return printed.length > 0
    ? `switch-to-configuration never printed "would activate the configuration..."; it printed: ${printed.join(' | ')}`
    : 'switch-to-configuration printed nothing (no "would activate the configuration..." line)'
}

/**
 * ssh itself could not connect: while pushing (or building on the target), or at
 * activation before anything came back from the host. deploy-rs activates with a plain
 * `ssh`, which exits 255 when it cannot connect. A dry run prints no `Activating`
 * line, so an ssh failure after the last `Copying profile` line followed by an
 * activation error belongs to the activation.
 */
function sshUnreachable(
  log: DeployLogSummary,
  stage: Stage | null,
  node: string
): { stage: Stage; error: string } | null {
  const ssh = log.sshFailure
  if (ssh === null) return null
  if (ssh.stage === stage && (stage === 'push' || (stage === 'build' && log.remoteBuild))) {
    return { stage, error: describeSshFailure(ssh.kind, ssh.message, node) }
  }
  const atActivation =
    stage === 'activate' &&
    (ssh.stage === 'activate' || (ssh.stage === 'push' && log.stage === 'push')) &&
    !log.hostOutputInStage &&
    log.deployErrors.some(e => /over SSH resulted in a bad exit code: Some\(255\)/.test(e.message))
  if (!atActivation || ssh.kind === 'other') return null
  return {
    stage: 'activate',
    error: `${describeSshFailure(ssh.kind, ssh.message, node)} (deploy-rs could not start the activation; nothing changed on the host)`
  }
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
  if (last) return last.message
  if (log.sshFailure && log.sshFailure.stage === 'confirm') return log.sshFailure.message
  return log.panic ? `deploy-rs panicked: ${log.panic}` : null
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
      return `host key verification failed for ${node} (${line}): the key the host presented does not match the pinned or scanned known_hosts entry`
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
