/** Key scans on cancellation: the scan in flight is told to stop, and no new try or back-off starts. */
import { describe, expect, it } from '@jest/globals'
import type { Keyscan } from '../../../src/commands/ssh-keyscan.js'
import { collectHostKeys } from '../../../src/ssh/host-keys.js'

describe('collectHostKeys on cancellation', () => {
  it('passes the abort signal to each scan and stops trying once it is aborted', async () => {
    const cancel = new AbortController()
    const seen: Array<AbortSignal | undefined> = []
    // A black hole: the scan ends only when it is aborted.
    const keyscan: Keyscan = (_host, _port, _timeout, abortSignal) => {
      seen.push(abortSignal)
      return new Promise(resolve =>
        abortSignal?.addEventListener('abort', () =>
          resolve({ lines: [], problem: 'ssh-keyscan was killed by SIGTERM' })
        )
      )
    }
    const collecting = collectHostKeys([{ host: 'hole.lan', port: 22 }], {
      pinned: [],
      scan: true,
      keyscan,
      timeoutSeconds: 30,
      tries: 3,
      abortSignal: cancel.signal
    })
    await new Promise(resolve => setTimeout(resolve, 10))
    cancel.abort()
    const keys = await collecting
    expect(seen).toEqual([cancel.signal])
    expect(keys.missing.get('hole.lan')).toMatch(/cancelled/)
  })

  it('cuts a back-off wait short when the job is cancelled', async () => {
    const cancel = new AbortController()
    let calls = 0
    const keyscan: Keyscan = async () => {
      calls++
      // Refused at once: the next try would wait a back-off of a minute first.
      setTimeout(() => cancel.abort(), 10)
      return { lines: [], problem: 'Connection refused' }
    }
    const keys = await collectHostKeys([{ host: 'down.lan', port: 22 }], {
      pinned: [],
      scan: true,
      keyscan,
      timeoutSeconds: 30,
      tries: 3,
      backoffMs: 60_000,
      abortSignal: cancel.signal
    })
    expect(calls).toBe(1)
    expect(keys.missing.get('down.lan')).toMatch(/cancelled/)
  })
})
