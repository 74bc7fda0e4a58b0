/**
 * A Nix daemon of the fleet's own, so the hosts' login user can query the
 * shared store like a user on a multi-user NixOS host: this machine's Nix
 * (Debian's nix-bin, single-user, root only) runs no daemon, and a non-root
 * `nix-store --query` would fail on its database. The daemon listens on a
 * socket in a dir beside the fleet's (NIX_DAEMON_SOCKET_PATH; not inside it,
 * so that it is never taken for a process a run left behind), serves the
 * real store and database, and lives only as long as the fleet. Host
 * sessions get NIX_REMOTE=daemon and that socket path (sshd SetEnv).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { access, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { endProcesses, findNixDaemonProcesses, nixDaemonDir } from './leftover-processes.js'
import { sleep, stopChild } from './processes.js'

const START_TIMEOUT_MS = 5000

export interface FleetNixDaemon {
  /** what host sessions need to talk to it */
  env: Record<string, string>
  stop(): Promise<void>
}

const exists = (path: string): Promise<boolean> => access(path).then(yes, no)
const yes = (): boolean => true
const no = (): boolean => false

/** Starts it, or returns null (with the reason) where it cannot run: not root, no nix-daemon. */
export async function startNixDaemon(
  dir: string
): Promise<{ daemon: FleetNixDaemon } | { daemon: null; reason: string }> {
  if (process.getuid?.() !== 0) {
    return { daemon: null, reason: 'not root: no nix daemon, hosts query the store as they can' }
  }
  const socketDir = nixDaemonDir(dir)
  await mkdir(socketDir, { recursive: true, mode: 0o755 })
  const socket = join(socketDir, 'socket')
  const child: ChildProcess = spawn('nix-daemon', [], {
    env: { ...process.env, NIX_DAEMON_SOCKET_PATH: socket },
    stdio: 'ignore'
  })
  // The daemon, then its per-connection children, then its dir.
  const stop = async (): Promise<void> => {
    await stopChild(child)
    await endProcesses(await findNixDaemonProcesses(socketDir))
    await rm(socketDir, { recursive: true, force: true })
  }
  let failure: string | null = null
  child.on('error', err => (failure = err.message))
  child.on('exit', code => (failure ??= `nix-daemon exited (${code})`))
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (failure !== null) {
      await stop()
      return { daemon: null, reason: `no nix daemon: ${failure}` }
    }
    if (await exists(socket)) break
    if (Date.now() > deadline) {
      await stop()
      return { daemon: null, reason: 'no nix daemon: its socket did not appear' }
    }
    await sleep(10)
  }
  return {
    daemon: {
      env: { NIX_REMOTE: 'daemon', NIX_DAEMON_SOCKET_PATH: socket },
      stop
    }
  }
}
