/**
 * Finds and ends processes that belong to a fleet but were not started by it
 * directly: commands running on its hosts (sshd's per-connection children
 * call setsid(), so they leave sshd's process group) and stand-in runs a test
 * left behind. They are recognised by an environment variable pointing into
 * the fleet's dir (FLEET_HOST_DIR on hosts, the scenario path for the
 * stand-in and its ssh children), and killed by pid.
 */
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { sleep } from './processes.js'

async function ancestors(): Promise<Set<number>> {
  const mine = new Set<number>([process.pid])
  let pid = process.ppid
  for (let depth = 0; depth < 64 && pid > 1; depth++) {
    mine.add(pid)
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    // "pid (comm) state ppid ...": comm may contain spaces and parens.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (!Number.isInteger(ppid)) break
    pid = ppid
  }
  return mine
}

/** Pids of processes whose environment has a variable starting with one of `markers`. */
export async function findMarkedProcesses(markers: string[]): Promise<number[]> {
  const spared = await ancestors()
  const found: number[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || spared.has(pid)) continue
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '')
    if (!environ) continue
    const vars = environ.split('\0')
    if (vars.some(v => markers.some(m => v.startsWith(m)))) found.push(pid)
  }
  return found
}

/** Alive and not a zombie (a zombie's parent may never reap it, e.g. pid 1 in a container). */
function isAlive(pid: number): boolean {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return false
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
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
