/**
 * The one way the action runs an external program (nix, ssh-keygen,
 * ssh-keyscan, deploy-rs): an argument vector, never a shell; stdin closed so
 * nothing waits for a prompt; its own process group, so a timeout or a cancel
 * stops ssh and nix children too; an environment without inputs or tokens.
 */
import { spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { childEnvironment, withoutSecrets } from './child-env.js'

/** How a process ended, as the operating system said it. */
export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the program could not be started at all (e.g. ENOENT). */
  startError: NodeJS.ErrnoException | null
}

export interface RunningProcess {
  readonly pid: number | undefined
  readonly stdout: Readable
  readonly stderr: Readable
  /** Settles when the process has exited and its output is drained (bounded). */
  readonly exited: Promise<ProcessExit>
  /** Signals the whole process group. */
  killGroup(signal: NodeJS.Signals): void
}

/** Starts a long-running program (deploy-rs); tests hand in another one. */
export type Launcher = (argv: readonly string[], env: NodeJS.ProcessEnv) => RunningProcess

/** How long output may keep flowing after the process itself exited (an escaped grandchild). */
const DRAIN_AFTER_EXIT_MS = 3_000

/** Starts a program in its own process group, stdin closed, output piped. */
export function startProcess(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string
): RunningProcess {
  const child = spawn(argv[0], argv.slice(1), {
    // Filtered here too, whoever built env: deploy-rs passes it on to ssh and nix.
    env: withoutSecrets(env),
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  const exited = new Promise<ProcessExit>(resolve => {
    let startError: NodeJS.ErrnoException | null = null
    let drainTimer: NodeJS.Timeout | undefined
    child.on('error', error => {
      startError = error
      resolve({ code: null, signal: null, startError })
    })
    child.on('exit', (code, signal) => {
      drainTimer = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        resolve({ code, signal, startError })
      }, DRAIN_AFTER_EXIT_MS)
    })
    child.on('close', (code, signal) => {
      if (drainTimer) clearTimeout(drainTimer)
      resolve({ code, signal, startError })
    })
  })
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    killGroup: signal => killGroup(child.pid, signal)
  }
}

export const launchProcess: Launcher = (argv, env) => startProcess(argv, env)

/** When the action stops a process, and how long it waits for it. */
export interface Supervision {
  timeoutMs: number
  /** Time between SIGTERM and SIGKILL after the timeout. */
  timeoutGraceMs: number
  /** Aborted on job cancellation: the process is stopped, and its result comes within a bounded time. */
  abortSignal?: AbortSignal
  /** The same on abort, shorter: the runner allows about 10 s from its cancel signal. */
  abortGraceMs?: number
  /** After the SIGKILL on abort, how long output may still flow before it is cut. */
  abortDrainMs?: number
}

export interface ProcessEnd extends ProcessExit {
  /** The action stopped the process because its timeout elapsed. */
  timedOut: boolean
  /** The action stopped the process because the job was cancelled. */
  aborted: boolean
}

const DEFAULT_ABORT_GRACE_MS = 2_000
const DEFAULT_ABORT_DRAIN_MS = 1_000

/**
 * Waits for a started process, stopping its group on timeout or abort, and
 * leaves nothing of the group running when it returns.
 */
export async function supervise(child: RunningProcess, options: Supervision): Promise<ProcessEnd> {
  let timedOut = false
  let aborted = false
  let killTimer: NodeJS.Timeout | undefined
  let killAt = Infinity
  const stop = (graceMs: number): void => {
    child.killGroup('SIGTERM')
    // A cancellation during a timeout's grace may only bring the SIGKILL forward.
    if (Date.now() + graceMs >= killAt) return
    killAt = Date.now() + graceMs
    if (killTimer) clearTimeout(killTimer)
    killTimer = setTimeout(() => child.killGroup('SIGKILL'), graceMs)
  }
  const timeout = setTimeout(() => {
    timedOut = true
    stop(options.timeoutGraceMs)
  }, options.timeoutMs)
  let giveUp: NodeJS.Timeout | undefined
  let onAbort = (): void => {}
  const givenUp = new Promise<null>(resolve => {
    onAbort = () => {
      aborted = true
      const graceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS
      stop(graceMs)
      // Output still flowing after the SIGKILL comes from a process that left the group:
      // it cannot hold up the caller.
      giveUp ??= setTimeout(
        () => resolve(null),
        graceMs + (options.abortDrainMs ?? DEFAULT_ABORT_DRAIN_MS)
      )
    }
    options.abortSignal?.addEventListener('abort', onAbort, { once: true })
    if (options.abortSignal?.aborted) onAbort()
  })
  const exit = (await Promise.race([child.exited, givenUp])) ?? {
    code: null,
    signal: null,
    startError: null
  }
  clearTimeout(timeout)
  if (killTimer) clearTimeout(killTimer)
  if (giveUp) clearTimeout(giveUp)
  options.abortSignal?.removeEventListener('abort', onAbort)
  child.killGroup('SIGKILL')
  return { ...exit, timedOut, aborted }
}

/** What a finished short command left behind. */
export interface CommandResult extends ProcessExit {
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface CommandOptions {
  timeoutMs: number
  /** Variables on top of the child environment (which never holds inputs or tokens). */
  extraEnv?: Readonly<Record<string, string>>
  cwd?: string
  /** Keep at most this many bytes of each stream (the tail is kept). */
  maxOutputBytes?: number
  /** Stops the command's whole process group when aborted (job cancellation). */
  abortSignal?: AbortSignal
}

/** Runs a short command (nix eval, ssh-keyscan, ssh-keygen) and captures its output. */
export type RunCommand = (
  argv: readonly string[],
  options: CommandOptions
) => Promise<CommandResult>

const KILL_GRACE_MS = 2_000

export const runCommand: RunCommand = async (argv, options) => {
  const maxBytes = options.maxOutputBytes ?? 4 * 1024 * 1024
  const child = startProcess(argv, childEnvironment(options.extraEnv), options.cwd)
  const out = new TailBuffer(maxBytes)
  const err = new TailBuffer(maxBytes)
  child.stdout.on('data', (chunk: Buffer) => out.add(chunk))
  child.stderr.on('data', (chunk: Buffer) => err.add(chunk))
  const end = await supervise(child, {
    timeoutMs: options.timeoutMs,
    timeoutGraceMs: KILL_GRACE_MS,
    abortSignal: options.abortSignal
  })
  child.stdout.destroy()
  child.stderr.destroy()
  return {
    code: end.code,
    signal: end.signal,
    startError: end.startError,
    stdout: out.toString(),
    stderr: err.toString(),
    timedOut: end.timedOut
  }
}

/** Sends a signal to a whole process group, ignoring groups that are gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group has exited already.
  }
}

/** Keeps the last maxBytes of a stream. */
class TailBuffer {
  private chunks: Buffer[] = []
  private size = 0
  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size - this.chunks[0].length >= this.maxBytes) {
      this.size -= this.chunks[0].length
      this.chunks.shift()
    }
  }

  toString(): string {
    const all = Buffer.concat(this.chunks)
    return all.subarray(Math.max(0, all.length - this.maxBytes)).toString('utf8')
  }
}

/** A one-line description of why a command failed, for error messages. */
export function describeFailure(argv0: string, result: CommandResult, timeoutMs: number): string {
  if (result.startError?.code === 'ENOENT') return `${argv0} was not found on PATH`
  if (result.startError) return `${argv0} could not be started: ${result.startError.message}`
  if (result.timedOut) return `${argv0} did not finish within ${Math.round(timeoutMs / 1000)} s`
  if (result.signal) return `${argv0} was killed by ${result.signal}`
  return `${argv0} exited with code ${result.code}`
}

/** Last non-empty lines of a text, for error messages. */
export function lastLines(text: string, count: number): string[] {
  return text
    .replace(/\r/g, '')
    .split('\n')
    .map(line => line.trimEnd())
    .filter(line => line.trim() !== '')
    .slice(-count)
}
