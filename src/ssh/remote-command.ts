import { userInfo } from 'node:os'
import { WORKSPACE_MARKER } from '../commands/leftover-processes.js'
import { lastLines, runCommand, type RunCommand } from '../commands/process.js'
import { sshOptionsFor, type Workspace } from './workspace.js'

/** Where a remote command goes: the node's address as deploy-rs connects to it. */
export interface RemoteTarget {
  readonly hostname: string
  /** The node's (or top-level) sshUser from the flake, null when none. */
  readonly sshUser: string | null
  /** node sshOpts ++ top-level sshOpts (the port among them). */
  readonly sshOpts: readonly string[]
}

/**
 * The user deploy-rs logs in as: the `ssh-user` input (deploy-rs
 * `--ssh-user`), else the node's sshUser, else the local user name.
 */
export function sshUserFor(
  target: RemoteTarget,
  sshUserOverride: string | null,
  localUser: () => string = () => userInfo().username
): string {
  return sshUserOverride ?? target.sshUser ?? localUser()
}

/**
 * The argument vector of `ssh` running one command on the node, over the
 * same connection settings deploy-rs gets (the workspace's config file,
 * known_hosts and key, the node's own sshOpts) and the same destination
 * `user@hostname`. `--` ends ssh's options before the destination, so no
 * user name from a flake can be read as an option; the command is one word,
 * which ssh hands to the login shell of the host's user as it is.
 */
export function remoteCommandArgv(
  workspace: Workspace,
  target: RemoteTarget,
  user: string,
  command: string
): string[] {
  return [
    'ssh',
    ...sshOptionsFor(workspace, target.sshOpts),
    '--',
    `${user}@${target.hostname}`,
    command
  ]
}

/** How one remote command ended. */
export type RemoteOutcome =
  /** The command ran and exited (or ssh exited with its own status 255: see `sshFailure`). */
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string }
  /** Stopped after the timeout; what it printed until then. */
  | { kind: 'timed-out'; stdout: string; stderr: string }
  /** The job was cancelled. */
  | { kind: 'cancelled' }
  /** ssh could not be started, or was killed by a signal nobody sent on purpose. */
  | { kind: 'broken'; message: string }

export interface RemoteCommandOptions {
  workspace: Workspace
  target: RemoteTarget
  user: string
  command: string
  timeoutMs: number
  /** Keep at most this many bytes of each stream (the tail). */
  maxOutputBytes: number
  abortSignal?: AbortSignal
  run?: RunCommand
}

/**
 * Runs one command on a node over ssh. The child environment holds no
 * inputs or tokens (runCommand), and carries the workspace marker so that
 * the post step can find ssh should the main step be killed.
 */
export async function runRemoteCommand(options: RemoteCommandOptions): Promise<RemoteOutcome> {
  const run = options.run ?? runCommand
  const argv = remoteCommandArgv(options.workspace, options.target, options.user, options.command)
  const result = await run(argv, {
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes,
    extraEnv: { [WORKSPACE_MARKER]: options.workspace.dir },
    abortSignal: options.abortSignal
  })
  if (options.abortSignal?.aborted) return { kind: 'cancelled' }
  if (result.startError) {
    return { kind: 'broken', message: `ssh could not be started: ${result.startError.message}` }
  }
  if (result.timedOut) return { kind: 'timed-out', stdout: result.stdout, stderr: result.stderr }
  if (result.code === null) {
    return { kind: 'broken', message: `ssh was killed by ${result.signal ?? 'a signal'}` }
  }
  return { kind: 'exited', exitCode: result.code, stdout: result.stdout, stderr: result.stderr }
}

/** ssh exits with 255 when it cannot connect, authenticate or verify the host key. */
export const SSH_FAILURE_EXIT = 255

/**
 * ssh's own complaint when it exited 255 (its last stderr lines), null for
 * any other ending. A remote command may exit 255 itself; callers that run
 * commands of their own never do.
 */
export function sshFailure(outcome: RemoteOutcome): string | null {
  if (outcome.kind !== 'exited' || outcome.exitCode !== SSH_FAILURE_EXIT) return null
  const lines = lastLines(outcome.stderr, 3)
  return lines.length > 0 ? lines.join(' / ') : 'ssh exited with code 255'
}
