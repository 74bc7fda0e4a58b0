/**
 * Lets a host's own commands close and reopen its sshd listener, as a new
 * configuration that breaks ssh (and its rollback) would: the host side
 * (deploy-rs-stand-in/remote-scripts.mjs) creates `close-sshd` / `open-sshd`
 * in its state dir; the fleet, which owns the sshd, acts on it and answers
 * `sshd-closed`. The host's commands cannot signal a root-owned sshd themselves.
 */
import { watch, type FSWatcher } from 'node:fs'
import { rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SshdHost } from './sshd-host.js'

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false
  )

export interface ListenerSwitch {
  close(): void
}

/** `reopened` gets the new listener's pid (the host's `pid` follows it). */
export function watchListenerRequests(
  stateDir: string,
  sshd: SshdHost,
  reopened: (pid: number | null) => void
): ListenerSwitch {
  const closeRequest = join(stateDir, 'close-sshd')
  const openRequest = join(stateDir, 'open-sshd')
  const closedAnswer = join(stateDir, 'sshd-closed')
  // one request at a time, in the order they came
  let queue = Promise.resolve()
  const handle = (): void => {
    queue = queue
      .then(async () => {
        if (await exists(closeRequest)) {
          await rm(closeRequest, { force: true })
          await sshd.closeListener()
          await writeFile(closedAnswer, '')
        }
        if (await exists(openRequest)) {
          await rm(openRequest, { force: true })
          await rm(closedAnswer, { force: true })
          reopened(await sshd.reopenListener())
        }
      })
      .catch((err: unknown) => {
        process.stderr.write(`sandbox fleet: ${stateDir}: ${String(err)}\n`)
      })
  }
  const watcher: FSWatcher = watch(stateDir, (_event, name) => {
    if (name === 'close-sshd' || name === 'open-sshd') handle()
  })
  watcher.unref()
  return { close: () => watcher.close() }
}
