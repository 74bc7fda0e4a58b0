/**
 * Small process helpers for the fleet: run a command by argv (never a shell)
 * with a bounded wait, wait for a TCP port, and stop a child by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'

export interface CommandResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs argv[0] with the rest as arguments; kills it after timeoutMs. */
export function runCommand(
  argv: string[],
  opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}
): Promise<CommandResult> {
  const [file, ...args] = argv
  if (!file) throw new Error('runCommand: empty argv')
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000)
    child.on('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    if (child.stdin) {
      child.stdin.on('error', () => undefined) // the command may exit without reading
      child.stdin.end(opts.input)
    }
  })
}

/** Like runCommand, but rejects unless the command exits 0. */
export async function runChecked(argv: string[], timeoutMs = 10_000): Promise<CommandResult> {
  const result = await runCommand(argv, { timeoutMs })
  if (result.code !== 0) {
    throw new Error(
      `${argv.join(' ')} failed (${result.code ?? result.signal}): ${result.stderr.trim()}`
    )
  }
  return result
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

function tryConnect(address: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host: address, port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Waits until address:port accepts TCP, at most timeoutMs. `gaveUp` lets the
 * caller stop early (e.g. the server process already exited).
 */
export async function waitForTcp(
  address: string,
  port: number,
  timeoutMs: number,
  gaveUp: () => string | null = () => null
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reason = gaveUp()
    if (reason) throw new Error(`${address}:${port} will not accept connections: ${reason}`)
    if (await tryConnect(address, port)) return
    if (Date.now() > deadline) {
      throw new Error(`${address}:${port} did not accept connections within ${timeoutMs} ms`)
    }
    await sleep(20)
  }
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => child.once('exit', () => resolve()))
}

/** Resolves true when `promise` settles within ms, false otherwise; leaves no timer behind. */
export function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>(resolve => {
    timer = setTimeout(() => resolve(false), ms)
  })
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer))
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the child is gone (bounded). */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = exited(child)
  child.kill('SIGTERM')
  if (await within(gone, graceMs)) return
  child.kill('SIGKILL')
  await within(gone, graceMs)
}
