/**
 * Picks ports for the fleet's hosts. Two fleets (e.g. two jest workers) may run
 * at once, so the default base is derived from the pid and every candidate is
 * probed by binding it; a port taken between the probe and sshd's bind is
 * handled by the caller retrying with the next port.
 */
import { createServer } from 'node:net'

/** 20000..29990, different for neighbouring pids, below the ephemeral range. */
export function defaultBasePort(pid = process.pid): number {
  return 20000 + (pid % 1000) * 10
}

/** True when address:port can be bound right now. */
export function canBind(address: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({ host: address, port, exclusive: true }, () => {
      server.close(() => resolve(true))
    })
  })
}

/**
 * Hands out ports in increasing order, skipping those already handed out and
 * those that cannot be bound on the given address.
 */
export class PortPicker {
  private next: number
  private readonly taken = new Set<number>()

  constructor(base: number) {
    this.next = base
  }

  async pick(address: string): Promise<number> {
    for (let tries = 0; tries < 500; tries++) {
      const port = this.next++
      if (port > 65535) break
      if (port === 22 || this.taken.has(port)) continue
      this.taken.add(port)
      if (await canBind(address, port)) return port
    }
    throw new Error(`no free port found for ${address}`)
  }
}
