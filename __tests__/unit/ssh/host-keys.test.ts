import { describe, expect, it } from '@jest/globals'
import type { Keyscan, KeyscanResult } from '../../../src/commands/ssh-keyscan.js'
import { type Clock, collectHostKeys, type HostKeysOptions } from '../../../src/ssh/host-keys.js'

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface Call {
  host: string
  port: number
  timeoutSeconds: number
}

/** A virtual clock: sleeping only moves time on and records how long was waited. */
function virtualClock() {
  const waits: number[] = []
  let time = 0
  const clock: Clock = {
    now: () => time,
    sleep: async ms => {
      waits.push(ms)
      time += ms
    }
  }
  return { clock, waits, advance: (ms: number) => (time += ms) }
}

/**
 * A keyscan that answers from a script: per `host:port`, one answer per try
 * (the last repeats). Records every call and the most calls in flight at once.
 */
function fakeKeyscan(script: Record<string, KeyscanResult[]>, delayMs = 0) {
  const calls: Call[] = []
  const state = { inFlight: 0, maxInFlight: 0 }
  const tries = new Map<string, number>()
  const keyscan: Keyscan = async (host, port, timeoutSeconds) => {
    calls.push({ host, port, timeoutSeconds })
    state.inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
    try {
      if (delayMs > 0) await sleep(delayMs)
      const key = `${host}:${port}`
      const answers = script[key] ?? [{ lines: [], problem: 'unscripted host' }]
      const n = tries.get(key) ?? 0
      tries.set(key, n + 1)
      return answers[Math.min(n, answers.length - 1)]
    } finally {
      state.inFlight--
    }
  }
  return { keyscan, calls, state }
}

const found = (host: string, ...keys: string[]): KeyscanResult => ({
  lines: keys.map(key => `${host} ${key}`),
  problem: null
})
const nothing = (problem: string | null = null): KeyscanResult => ({ lines: [], problem })

function options(keyscan: Keyscan, overrides: Partial<HostKeysOptions> = {}): HostKeysOptions {
  return {
    pinned: [],
    scan: true,
    keyscan,
    timeoutSeconds: 7,
    tries: 3,
    backoffMs: 1,
    ...overrides
  }
}

describe('collectHostKeys', () => {
  it('scans every host without a pin and returns pins first, then the scanned keys', async () => {
    const { keyscan, calls } = fakeKeyscan({
      'web.example.com:22': [found('web.example.com', ED, RSA)],
      'db.example.com:2222': [found('[db.example.com]:2222', ED)]
    })
    const logs: string[] = []
    const result = await collectHostKeys(
      [
        { host: 'web.example.com', port: 22 },
        { host: 'db.example.com', port: 2222 }
      ],
      options(keyscan, { pinned: [`cache.example.com ${ED}`], log: message => logs.push(message) })
    )
    expect(result.missing.size).toBe(0)
    expect(result.knownHosts[0]).toBe(`cache.example.com ${ED}`)
    expect(result.knownHosts.slice(1).sort()).toEqual(
      [`[db.example.com]:2222 ${ED}`, `web.example.com ${ED}`, `web.example.com ${RSA}`].sort()
    )
    expect(calls.map(call => `${call.host}:${call.port}:${call.timeoutSeconds}`).sort()).toEqual([
      'db.example.com:2222:7',
      'web.example.com:22:7'
    ])
    expect(logs).toContain('web.example.com: scanned ssh-ed25519, ssh-rsa (trust on first use)')
  })

  it('never scans a pinned host (plain, wildcard, [host]:port), and keeps only the pins for it', async () => {
    const { keyscan, calls } = fakeKeyscan({
      'other.example.org:22': [found('other.example.org', ED)]
    })
    const pinned = [`web.example.com ${ED}`, `*.lan ${ED}`, `[db.example.com]:2222 ${ED}`]
    const logs: string[] = []
    const result = await collectHostKeys(
      [
        { host: 'web.example.com', port: 22 },
        { host: 'node1.lan', port: 22 },
        { host: 'db.example.com', port: 2222 },
        { host: 'other.example.org', port: 22 }
      ],
      options(keyscan, { pinned, log: message => logs.push(message) })
    )
    expect(calls.map(call => call.host)).toEqual(['other.example.org'])
    expect(result.knownHosts).toEqual([...pinned, `other.example.org ${ED}`])
    expect(result.missing.size).toBe(0)
    expect(logs).toContain('[db.example.com]:2222: host key pinned by known-hosts')
  })

  it('a pin for port 22 does not cover the same host on another port', async () => {
    const { keyscan, calls } = fakeKeyscan({
      'db.example.com:2222': [found('[db.example.com]:2222', ED)]
    })
    await collectHostKeys(
      [{ host: 'db.example.com', port: 2222 }],
      options(keyscan, { pinned: [`db.example.com ${ED}`] })
    )
    expect(calls).toHaveLength(1)
  })

  it('a @revoked line is not a pin: the host is scanned', async () => {
    const { keyscan, calls } = fakeKeyscan({ 'web.example.com:22': [found('web.example.com', ED)] })
    await collectHostKeys(
      [{ host: 'web.example.com', port: 22 }],
      options(keyscan, { pinned: [`@revoked web.example.com ${RSA}`] })
    )
    expect(calls).toHaveLength(1)
  })

  it('scans each host:port once, however many nodes share it', async () => {
    const { keyscan, calls } = fakeKeyscan({
      'h:22': [found('h', ED)],
      'h:2222': [found('[h]:2222', ED)]
    })
    const result = await collectHostKeys(
      [
        { host: 'h', port: 22 },
        { host: 'h', port: 22 },
        { host: 'h', port: 2222 }
      ],
      options(keyscan)
    )
    expect(calls).toHaveLength(2)
    expect(result.knownHosts).toHaveLength(2)
  })

  it('scans all hosts at once, not one after another', async () => {
    const hosts = Array.from({ length: 8 }, (_, i) => ({ host: `h${i}`, port: 22 }))
    const { keyscan, state } = fakeKeyscan(
      Object.fromEntries(hosts.map(({ host }) => [`${host}:22`, [found(host, ED)]])),
      20
    )
    const result = await collectHostKeys(hosts, options(keyscan))
    expect(state.maxInFlight).toBe(8)
    expect(result.knownHosts).toHaveLength(8)
  })

  it('retries a host that returned nothing, with growing waits, and takes the key of a later try', async () => {
    const { keyscan, calls } = fakeKeyscan({
      'web:22': [nothing('connection refused'), nothing('connection refused'), found('web', ED)]
    })
    const { clock, waits } = virtualClock()
    const result = await collectHostKeys(
      [{ host: 'web', port: 22 }],
      options(keyscan, { backoffMs: 40, clock })
    )
    expect(waits).toEqual([40, 80])
    expect(calls).toHaveLength(3)
    expect(result.knownHosts).toEqual([`web ${ED}`])
    expect(result.missing.size).toBe(0)
  })

  it('does not wait again after a try that used its whole timeout (a black hole)', async () => {
    const { clock, waits, advance } = virtualClock()
    const { keyscan: answer, calls } = fakeKeyscan({ 'hole:22': [nothing('timed out')] })
    // Each try takes the whole 1 s timeout on the virtual clock.
    const keyscan: Keyscan = async (host, port, timeoutSeconds) => {
      advance(timeoutSeconds * 1000)
      return answer(host, port, timeoutSeconds)
    }
    const result = await collectHostKeys(
      [{ host: 'hole', port: 22 }],
      options(keyscan, { timeoutSeconds: 1, backoffMs: 2000, clock })
    )
    expect(calls).toHaveLength(3)
    expect(waits).toEqual([])
    expect(result.missing.get('hole')).toMatch(/timed out after 3 tries of 1 s/)
  })

  it('waits after a quick failure but not after a try that timed out', async () => {
    const { clock, waits, advance } = virtualClock()
    const { keyscan: answer } = fakeKeyscan({
      'web:22': [nothing('connection refused'), nothing('timed out'), nothing('refused')]
    })
    let tryNumber = 0
    const keyscan: Keyscan = async (host, port, timeoutSeconds) => {
      if (++tryNumber === 2) advance(timeoutSeconds * 1000)
      return answer(host, port, timeoutSeconds)
    }
    await collectHostKeys(
      [{ host: 'web', port: 22 }],
      options(keyscan, { timeoutSeconds: 5, backoffMs: 100, clock })
    )
    expect(waits).toEqual([100])
  })

  it('stops retrying after the first success', async () => {
    const { keyscan, calls } = fakeKeyscan({ 'web:22': [nothing(), found('web', ED)] })
    await collectHostKeys([{ host: 'web', port: 22 }], options(keyscan, { tries: 5 }))
    expect(calls).toHaveLength(2)
  })

  it('an empty scan after every try makes the host missing, with the last reason and the tries', async () => {
    const { keyscan, calls } = fakeKeyscan({
      'down:22': [
        nothing('ssh-keyscan did not finish within 12 s'),
        nothing('ssh-keyscan got no host key: Connection refused')
      ],
      'up:22': [found('up', ED)]
    })
    const result = await collectHostKeys(
      [
        { host: 'down', port: 22 },
        { host: 'up', port: 22 }
      ],
      options(keyscan)
    )
    expect(calls.filter(call => call.host === 'down')).toHaveLength(3)
    expect([...result.missing]).toEqual([
      ['down', 'down: ssh-keyscan got no host key: Connection refused after 3 tries of 7 s']
    ])
    expect(result.knownHosts).toEqual([`up ${ED}`])
  })

  it('an empty scan without a reason still counts as missing; one try is "1 try"', async () => {
    const { keyscan } = fakeKeyscan({ 'quiet:2222': [nothing()] })
    const result = await collectHostKeys(
      [{ host: 'quiet', port: 2222 }],
      options(keyscan, { tries: 1 })
    )
    expect(result.missing.get('[quiet]:2222')).toBe('[quiet]:2222: no host key after 1 try of 7 s')
  })

  it('ssh-keyscan false: hosts without a pin are missing and nothing is scanned', async () => {
    const { keyscan, calls } = fakeKeyscan({})
    const result = await collectHostKeys(
      [
        { host: 'web.example.com', port: 22 },
        { host: 'db.example.com', port: 2222 }
      ],
      options(keyscan, { scan: false, pinned: [`web.example.com ${ED}`] })
    )
    expect(calls).toHaveLength(0)
    expect(result.knownHosts).toEqual([`web.example.com ${ED}`])
    expect([...result.missing]).toEqual([
      [
        '[db.example.com]:2222',
        'no pinned host key for [db.example.com]:2222 in known-hosts, and ssh-keyscan is false'
      ]
    ])
  })

  it('defaults to 3 tries', async () => {
    const { keyscan, calls } = fakeKeyscan({})
    const result = await collectHostKeys([{ host: 'x', port: 22 }], {
      pinned: [],
      scan: true,
      keyscan,
      timeoutSeconds: 1,
      backoffMs: 1
    })
    expect(calls).toHaveLength(3)
    expect(result.missing.get('x')).toMatch(/after 3 tries of 1 s$/)
  })
})
