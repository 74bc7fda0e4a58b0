/**
 * What a run of the action leaves running, and how much memory it used:
 * processes that mention a fleet's dir, and the main step's resident size
 * sampled from /proc while it runs. Every wait is bounded.
 */
import { readdir, readFile } from 'node:fs/promises'
import type { Fleet } from '../fleet/index.js'
import { ancestors } from '../fleet/leftover-processes.js'

export interface FoundProcess {
  pid: number
  /** argv joined by spaces */
  cmdline: string
  /** true when it runs on a fleet host (FLEET_HOST_DIR set), false for a local process (the action's side) */
  remote: boolean
}

/**
 * Live processes whose command line or environment mentions the fleet's dir,
 * except the fleet's own sshd listeners (the "hosts") and this test process.
 * Zombies are not counted: they run nothing.
 */
export async function fleetProcesses(fleet: Fleet): Promise<FoundProcess[]> {
  const spared = await ancestors()
  for (const host of fleet.hosts) if (host.pid !== null) spared.add(host.pid)
  const found: FoundProcess[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || spared.has(pid)) continue
    const [cmdline, environ, stat] = await Promise.all(
      ['cmdline', 'environ', 'stat'].map(file =>
        readFile(`/proc/${pid}/${file}`, 'latin1').catch(() => '')
      )
    )
    if (stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
    if (!cmdline.includes(fleet.dir) && !environ.includes(fleet.dir)) continue
    found.push({
      pid,
      cmdline: cmdline.split('\0').join(' ').trim(),
      remote: environ.split('\0').some(v => v.startsWith('FLEET_HOST_DIR='))
    })
  }
  return found
}

/** Polls `probe` every `intervalMs` until it returns true or `timeoutMs` passed; returns the last answer. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 50
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await probe()) return true
    if (Date.now() >= deadline) return false
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** Fleet processes still there after waiting up to `timeoutMs` for them to go. */
export async function processesLeftAfter(
  fleet: Fleet,
  timeoutMs: number,
  filter: (p: FoundProcess) => boolean = () => true
): Promise<FoundProcess[]> {
  let left: FoundProcess[] = []
  await waitUntil(
    async () => (left = (await fleetProcesses(fleet)).filter(filter)).length === 0,
    timeoutMs,
    100
  )
  return left
}

export interface MemorySampler {
  /** Highest VmHWM / VmRSS seen, in bytes (0 when the process was never sampled). */
  peakBytes(): number
  samples(): number
  stop(): void
}

/**
 * Samples /proc/PID/status every `intervalMs`: VmHWM is the kernel's own peak
 * resident size, so the last sample before exit holds the peak even between
 * samples; VmRSS is kept too in case VmHWM is missing.
 */
export function sampleMemory(pid: number, intervalMs = 50): MemorySampler {
  let peak = 0
  let count = 0
  const read = async (): Promise<void> => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    for (const field of ['VmHWM', 'VmRSS']) {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
      if (match) {
        peak = Math.max(peak, Number(match[1]) * 1024)
        if (field === 'VmHWM') count++
      }
    }
  }
  void read()
  const timer = setInterval(() => void read(), intervalMs)
  return {
    peakBytes: () => peak,
    samples: () => count,
    stop: () => clearInterval(timer)
  }
}
