/**
 * A "black hole" host: accepts TCP connections and never says a word, like a
 * firewalled or wedged machine. ssh then waits for the server banner until its
 * ConnectTimeout (or forever without one).
 */
import { createServer, type Socket } from 'node:net'

export interface Blackhole {
  port: number
  stop(): Promise<void>
}

export function startBlackhole(address: string, port: number): Promise<Blackhole> {
  const sockets = new Set<Socket>()
  const server = createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject)
      resolve({
        port,
        stop: () =>
          new Promise<void>(done => {
            // close() waits for open connections: drop them first.
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })
}
