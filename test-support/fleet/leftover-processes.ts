/**
 * Finds and ends the processes of a fleet that it did not start directly, or
 * whose owner died: commands running on its hosts (sshd's per-connection
 * children call setsid(), so they leave sshd's process group), stand-in runs a
 * test left behind, and the sshds of a fleet whose test process was killed.
 * They are recognised by the fleet's dir: in an environment variable
 * (FLEET_HOST_DIR on hosts; the scenario path for the stand-in and its ssh
 * children) or in sshd's command line (`-f DIR/sshd/N/sshd_config`). Killed by pid.
 */
import { readFileSync } from 'node:fs'
import { readdir, readFile, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { sleep } from './processes.js'

export const FLEET_DIR_PREFIX = 'deployrs-fleet-'
const OWNER_FILE = 'owner.pid'
export const SCENARIO_ENV = 'DEPLOY_RS_STAND_IN_SCENARIO'

/** Alive and not a zombie (a zombie's parent may never reap it, e.g. pid 1 in a container). */
export function isAlive(pid: number): boolean {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return false
  }
  // "pid (comm) state ppid ...": comm may contain spaces and parens.
  return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z'
}

/** This process and its ancestors, which a search for leftovers must never count. */
export async function ancestors(): Promise<Set<number>> {
  const mine = new Set<number>([process.pid])
  let pid = process.ppid
  for (let depth = 0; depth < 64 && pid > 1; depth++) {
    mine.add(pid)
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (!Number.isInteger(ppid)) break
    pid = ppid
  }
  return mine
}

/** Pids of live processes that belong to the fleet in `dir` (never this process or its ancestors). */
export async function findFleetProcesses(dir: string): Promise<number[]> {
  const envMarkers = [`FLEET_HOST_DIR=${dir}/`, `${SCENARIO_ENV}=${join(dir, 'scenario.json')}`]
  const sshdMarker = `${dir}/sshd/`
  const spared = await ancestors()
  const found: number[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || spared.has(pid)) continue
    const [environ, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/environ`, 'latin1').catch(() => ''),
      readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')
    ])
    const vars = environ.split('\0')
    const mine =
      cmdline.includes(sshdMarker) || vars.some(v => envMarkers.some(m => v.startsWith(m)))
    if (mine && isAlive(pid)) found.push(pid)
  }
  return found
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL whatever is left after graceMs; waits (bounded) for them to go. */
export async function endProcesses(pids: number[], graceMs = 1000): Promise<void> {
  if (pids.length === 0) return
  for (const pid of pids) signal(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(20)
  for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL')
  const hardDeadline = Date.now() + graceMs
  while (pids.some(isAlive) && Date.now() < hardDeadline) await sleep(20)
}

/** Records which process owns the fleet in `dir`, for cleanUpAbandonedFleets. */
export function ownerFile(dir: string): string {
  return join(dir, OWNER_FILE)
}

/**
 * Ends the processes and removes the dirs of fleets (under `parent`) whose
 * owning process is gone, e.g. a jest worker killed before its afterAll.
 */
export async function cleanUpAbandonedFleets(parent: string): Promise<void> {
  const entries = await readdir(parent).catch(() => [] as string[])
  for (const name of entries.filter(n => n.startsWith(FLEET_DIR_PREFIX))) {
    const dir = join(parent, name)
    const owner = Number(await readFile(ownerFile(dir), 'utf8').catch(() => 'NaN'))
    if (!Number.isInteger(owner) || owner === process.pid || isAlive(owner)) continue
    await endProcesses(await findFleetProcesses(dir))
    await endProcesses(await findNixDaemonProcesses(nixDaemonDir(dir)))
    await rm(dir, { recursive: true, force: true })
    await rm(nixDaemonDir(dir), { recursive: true, force: true })
  }
}

/**
 * The dir of a fleet's nix daemon (nix-daemon.ts): beside the fleet's dir,
 * not in it, so that the daemon, which lives as long as the fleet like its
 * sshd listeners, is never taken for something a run left behind.
 */
export function nixDaemonDir(fleetDir: string): string {
  return join(
    dirname(fleetDir),
    `deployrs-nixd-${basename(fleetDir).slice(FLEET_DIR_PREFIX.length)}`
  )
}

/** The fleet's nix daemon and its per-connection children, by their socket path. */
export async function findNixDaemonProcesses(daemonDir: string): Promise<number[]> {
  const marker = `NIX_DAEMON_SOCKET_PATH=${daemonDir}/`
  const found: number[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '')
    if (environ.split('\0').some(v => v.startsWith(marker)) && isAlive(pid)) found.push(pid)
  }
  return found
}
