import type { Keyscan } from '../commands/ssh-keyscan.js'
import { isPinned, knownHostsName, normalisePin, pinLinesFor, underName } from './known-hosts.js'

export interface HostAddress {
  readonly host: string
  readonly port: number
}

export interface HostKeysOptions {
  pinned: readonly string[]
  scan: boolean
  keyscan: Keyscan
  timeoutSeconds: number
  /** Tries per host; the tailnet may need a few seconds after joining. */
  tries?: number
  /** Wait before try n+1 is backoffMs × n, unless try n used its whole timeout. */
  backoffMs?: number
  log?: (message: string) => void
  /** Time source and wait; tests pass a virtual clock. */
  clock?: Clock
  /** Job cancelled: running scans are stopped, no further try or wait starts. */
  abortSignal?: AbortSignal
}

export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
}

export interface HostKeys {
  /**
   * Everything for the workspace's known_hosts: the pins (as ssh can use them),
   * then what was scanned, each under its host's own name.
   */
  knownHosts: string[]
  /** Hosts with no key, by known_hosts name, with the reason. */
  missing: Map<string, string>
}

/**
 * Pinned hosts are trusted as pinned and never scanned; every other host is
 * scanned, all at once, each with a few tries (trust on first use).
 */
export async function collectHostKeys(
  hosts: readonly HostAddress[],
  options: HostKeysOptions
): Promise<HostKeys> {
  const tries = options.tries ?? 3
  // Ours, not p-retry: the wait ends at once on cancel, and is skipped after a try that timed out.
  const backoffMs = options.backoffMs ?? 1_000
  const log = options.log ?? (() => undefined)
  const clock = options.clock ?? realClock
  const unique = new Map<string, HostAddress>()
  for (const address of hosts) unique.set(knownHostsName(address.host, address.port), address)

  const pinned = options.pinned.map(normalisePin)
  const missing = new Map<string, string>()
  const scanned: string[][] = []
  const renamedPins: string[] = []
  await Promise.all(
    [...unique].map(async ([name, { host, port }]) => {
      if (isPinned(pinned, host, port)) {
        renamedPins.push(...pinLinesFor(pinned, host, port))
        log(`${name}: host key pinned by known-hosts`)
        return
      }
      if (!options.scan) {
        missing.set(name, `no pinned host key for ${name} in known-hosts, and ssh-keyscan is false`)
        return
      }
      let problem = ''
      const abortSignal = options.abortSignal
      for (let attempt = 1; attempt <= tries; attempt++) {
        if (abortSignal?.aborted) {
          missing.set(name, `${name}: not scanned, the job was cancelled`)
          return
        }
        const started = clock.now()
        const result = await options.keyscan(host, port, options.timeoutSeconds, abortSignal)
        if (result.lines.length > 0) {
          log(
            `${name}: scanned ${result.lines.map(line => line.split(/\s+/)[1]).join(', ')} (trust on first use)`
          )
          // ssh-keyscan prints the name it was given; the host's own name is what ssh looks up.
          scanned.push(result.lines.map(line => underName(line, host, port)))
          return
        }
        problem = result.problem ?? 'no host key'
        // A quick failure (refused, tailnet not up yet) waits before the next try; a try
        // that used its whole timeout has waited already.
        const usedTimeout = clock.now() - started >= options.timeoutSeconds * 1000 * 0.9
        if (attempt < tries && !usedTimeout) {
          await Promise.race([clock.sleep(backoffMs * attempt), aborted(abortSignal)])
        }
      }
      missing.set(
        name,
        `${name}: ${problem} after ${tries} ${tries === 1 ? 'try' : 'tries'} of ${options.timeoutSeconds} s`
      )
    })
  )
  return { knownHosts: [...pinned, ...renamedPins, ...scanned.flat()], missing }
}

/** Settles when the signal is aborted; never without one. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise(resolve => {
    if (signal?.aborted) resolve()
    else signal?.addEventListener('abort', () => resolve(), { once: true })
  })
}
