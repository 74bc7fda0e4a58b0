/** runCommand on cancellation: the caller gets its result in bounded time, whatever the command does. */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from '../../../src/commands/process.js'

const escaped: number[] = []
const dirs: string[] = []

afterAll(async () => {
  for (const pid of escaped) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  await Promise.all(dirs.map(dir => rm(dir, { recursive: true, force: true })))
})

describe('runCommand with an abort signal', () => {
  it('stops a command at once when the signal was aborted before it started', async () => {
    const cancelled = new AbortController()
    cancelled.abort()
    const result = await runCommand(['sleep', '30'], {
      timeoutMs: 60_000,
      abortSignal: cancelled.signal
    })
    expect(result.signal).toBe('SIGTERM')
  }, 10_000)

  it('returns after the kill grace even when a process that left the group holds its output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'process-abort-'))
    dirs.push(dir)
    const pidFile = join(dir, 'escaped.pid')
    // The shell ignores SIGTERM; its child starts a new session (out of reach of a group
    // kill) and keeps stdout open for 60 s.
    const script = `trap '' TERM; setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' & sleep 60`
    const cancel = new AbortController()
    const running = runCommand(['sh', '-c', script], {
      timeoutMs: 120_000,
      abortSignal: cancel.signal
    })
    // Wait (bounded) for the escaped process to exist, then cancel.
    for (let i = 0; i < 100; i++) {
      const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''))
      if (pid > 0) {
        escaped.push(pid)
        break
      }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    expect(escaped).toHaveLength(1)
    cancel.abort()
    const result = await running
    expect(result.timedOut).toBe(false)
    expect(result.code).toBeNull()
  }, 15_000)
})
