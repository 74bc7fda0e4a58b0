import { spawn } from 'node:child_process'
import { childEnvironment } from './child-env.js'

/** What a finished short command left behind. */
export interface CommandResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
  /** Set when the program could not be started at all (e.g. ENOENT). */
  startError: NodeJS.ErrnoException | null
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

/** Runs a short command (nix eval, ssh-keyscan, ssh-keygen) with an argument vector, never a shell. */
export type RunCommand = (
  argv: readonly string[],
  options: CommandOptions
) => Promise<CommandResult>

const KILL_GRACE_MS = 2_000
/** After the SIGKILL on abort, how long output may still flow (a process that left the group). */
const ABORT_DRAIN_MS = 1_000

/**
 * Starts the command in its own process group with stdin closed (so nothing
 * can ever wait for a prompt) and stops the whole group on timeout.
 */
export const runCommand: RunCommand = (argv, options) =>
  new Promise(resolve => {
    const maxBytes = options.maxOutputBytes ?? 4 * 1024 * 1024
    const child = spawn(argv[0], argv.slice(1), {
      env: childEnvironment(options.extraEnv),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    const out = new TailBuffer(maxBytes)
    const err = new TailBuffer(maxBytes)
    child.stdout.on('data', (chunk: Buffer) => out.add(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.add(chunk))

    let timedOut = false
    let killTimer: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid, 'SIGTERM')
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS)
    }, options.timeoutMs)

    // On abort the caller gets its result within a bounded time, whatever the command does.
    let giveUp: NodeJS.Timeout | undefined
    const onAbort = (): void => {
      killGroup(child.pid, 'SIGTERM')
      killTimer ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS)
      giveUp ??= setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        finish(child.exitCode, child.signalCode)
      }, KILL_GRACE_MS + ABORT_DRAIN_MS)
    }
    options.abortSignal?.addEventListener('abort', onAbort, { once: true })
    if (options.abortSignal?.aborted) onAbort()

    let startError: NodeJS.ErrnoException | null = null
    child.on('error', error => {
      startError = error as NodeJS.ErrnoException
    })
    let finished = false
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      if (killTimer) clearTimeout(killTimer)
      if (giveUp) clearTimeout(giveUp)
      options.abortSignal?.removeEventListener('abort', onAbort)
      resolve({
        code,
        signal,
        stdout: out.toString(),
        stderr: err.toString(),
        timedOut,
        startError
      })
    }
    child.on('close', finish)
  })

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
