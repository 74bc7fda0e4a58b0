/**
 * Runs a node's health check over ssh: the baseline BEFORE deploy-rs starts
 * (systemd check only), the check AFTER the node is deployed. One remote
 * command (one ssh session) each; none when the check is off.
 */
import type { RunCommand } from '../commands/process.js'
import {
  runRemoteCommand,
  sshFailure,
  type RemoteOutcome,
  type RemoteTarget
} from '../ssh/remote-command.js'
import type { Workspace } from '../ssh/workspace.js'
import type { HealthCheck } from './mode.js'
import {
  afterScript,
  beforeScript,
  newHealthToken,
  parseAfter,
  parseBefore,
  type BeforeReading
} from './systemd-check.js'
import {
  checkFailed,
  commandVerdict,
  NO_CHECK,
  noSystemctl,
  systemdVerdict,
  type HealthVerdict
} from './verdict.js'

/** Bytes kept of each stream of one check (the parsers need the whole of a bounded output). */
const MAX_OUTPUT_BYTES = 1024 * 1024
/** Time the AFTER script keeps for listing units and journals once it stops waiting. */
const LISTING_MARGIN_SECONDS = 10

export interface HealthContext {
  workspace: Workspace
  target: RemoteTarget
  /** The user deploy-rs logs in as (sshUserFor). */
  user: string
  /** `health-timeout`, for each of the two round trips. */
  timeoutMs: number
  abortSignal?: AbortSignal
  run?: RunCommand
}

/** What is known before deploy-rs starts on the node. */
export type HealthBaseline =
  | { kind: 'off' }
  | { kind: 'command'; command: string }
  | { kind: 'systemd'; requireSystemctl: boolean; before: BeforeReading }

export type HealthOutcome = HealthVerdict | 'cancelled'

function remote(ctx: HealthContext, command: string): Promise<RemoteOutcome> {
  return runRemoteCommand({
    workspace: ctx.workspace,
    target: ctx.target,
    user: ctx.user,
    command,
    timeoutMs: ctx.timeoutMs,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    abortSignal: ctx.abortSignal,
    run: ctx.run
  })
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}

/** Why a check's own remote script did not give an answer; null when it did. */
function notAnswered(outcome: RemoteOutcome, timeoutMs: number): string | null {
  if (outcome.kind === 'timed-out') return `did not finish within ${seconds(timeoutMs)}`
  if (outcome.kind === 'broken') return outcome.message
  const ssh = sshFailure(outcome)
  // The check's scripts never exit 255 themselves: that is ssh.
  return ssh === null ? null : `could not connect: ${ssh}`
}

/** BEFORE deploy-rs starts on the node: the systemd check's failed units (no session otherwise). */
export async function readBaseline(
  check: HealthCheck,
  ctx: HealthContext
): Promise<HealthBaseline | 'cancelled'> {
  if (check.kind === 'off') return { kind: 'off' }
  if (check.kind === 'command') return { kind: 'command', command: check.command }
  const token = newHealthToken()
  const outcome = await remote(ctx, beforeScript(token))
  if (outcome.kind === 'cancelled') return 'cancelled'
  const failure = notAnswered(outcome, ctx.timeoutMs)
  const before: BeforeReading =
    failure !== null
      ? { kind: 'unreadable', reason: failure }
      : outcome.kind === 'exited'
        ? parseBefore(outcome.stdout, outcome.stderr, token)
        : { kind: 'unreadable', reason: 'no answer' }
  return { kind: 'systemd', requireSystemctl: check.requireSystemctl, before }
}

/** AFTER the node is deployed: the check itself. */
export async function checkHealth(
  baseline: HealthBaseline,
  ctx: HealthContext
): Promise<HealthOutcome> {
  if (baseline.kind === 'off') return NO_CHECK
  if (baseline.kind === 'command') return runCustomCheck(baseline.command, ctx)
  const { before, requireSystemctl } = baseline
  // Nothing to compare with: no second session.
  if (before.kind === 'no-systemctl') return noSystemctl(requireSystemctl)
  if (before.kind === 'unreadable') {
    return checkFailed(`could not read the failed units before the deploy: ${before.reason}`)
  }
  const timeoutSeconds = ctx.timeoutMs / 1000
  const waitSeconds = Math.max(
    0,
    Math.floor(timeoutSeconds - Math.min(LISTING_MARGIN_SECONDS, timeoutSeconds / 4))
  )
  const token = newHealthToken()
  const outcome = await remote(ctx, afterScript(token, before.failed, waitSeconds))
  if (outcome.kind === 'cancelled') return 'cancelled'
  const failure = notAnswered(outcome, ctx.timeoutMs)
  if (failure !== null || outcome.kind !== 'exited') {
    return checkFailed(failure ?? 'no answer', 'stderr' in outcome ? outcome.stderr : '')
  }
  const after = parseAfter(outcome.stdout, outcome.stderr, token)
  return systemdVerdict(before, after, requireSystemctl, waitSeconds)
}

/**
 * ssh's own words when it could not connect. Exit 255 alone does not tell
 * ssh from a user's command that exits 255; ssh says why on stderr.
 */
const SSH_CONNECT_ERROR =
  /^(?:ssh: |kex_exchange_identification: |Connection (?:closed|reset|timed out) |banner exchange: |Host key verification failed|.*: Permission denied \(|No ED25519 host key is known|Load key )/m

async function runCustomCheck(command: string, ctx: HealthContext): Promise<HealthOutcome> {
  const outcome = await remote(ctx, command)
  if (outcome.kind === 'cancelled') return 'cancelled'
  if (outcome.kind === 'timed-out') {
    return checkFailed(
      `the command did not finish within ${seconds(ctx.timeoutMs)}`,
      [outcome.stdout, outcome.stderr].join('\n')
    )
  }
  if (outcome.kind === 'broken') return checkFailed(outcome.message)
  const ssh = sshFailure(outcome)
  if (ssh !== null && SSH_CONNECT_ERROR.test(outcome.stderr)) {
    return checkFailed(`could not connect: ${ssh}`)
  }
  return commandVerdict(outcome.exitCode, outcome.stdout, outcome.stderr)
}
