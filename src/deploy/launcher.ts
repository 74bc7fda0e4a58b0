import { spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { withoutSecrets } from '../commands/child-env.js'
import { killGroup } from '../commands/process.js'

export interface RunningProcess {
  readonly pid: number | undefined
  readonly stdout: Readable
  readonly stderr: Readable
  /** Settles when the process has exited and its output is drained (bounded). */
  readonly exited: Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    startError: Error | null
  }>
  /** Signals the whole process group: deploy-rs leaves its ssh and nix children running otherwise. */
  killGroup(signal: NodeJS.Signals): void
}

/** Starts deploy-rs; tests can hand in another launcher. */
export type Launcher = (argv: readonly string[], env: NodeJS.ProcessEnv) => RunningProcess

/** How long output may keep flowing after the process itself exited (an escaped grandchild). */
const DRAIN_AFTER_EXIT_MS = 3_000

export const launchProcess: Launcher = (argv, env) => {
  const child = spawn(argv[0], argv.slice(1), {
    // Filtered here too, whoever built env: deploy-rs passes it on to ssh and nix.
    env: withoutSecrets(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a timeout or cancellation can stop ssh and nix too.
    detached: true
  })
  const exited = new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    startError: Error | null
  }>(resolve => {
    let startError: Error | null = null
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
