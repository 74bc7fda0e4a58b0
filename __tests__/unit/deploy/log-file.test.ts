/** A node's log file: write failures never escape, the size cap keeps the head, names never collide. */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Writable } from 'node:stream'
import { logFileName, NodeLogFile, openLogFile } from '../../../src/deploy/log-file.js'

/** A file that fails like a full disk: the first `okWrites` writes succeed, then every one fails. */
function failingStream(okWrites: number): { stream: Writable; written: () => string } {
  const chunks: Buffer[] = []
  let writes = 0
  const stream = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _encoding, callback) {
      if (writes++ < okWrites) {
        chunks.push(chunk)
        // Later, so the writer sees backpressure and waits for 'drain' first.
        setTimeout(callback, 5)
      } else {
        const error = Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC'
        })
        setTimeout(() => callback(error), 5)
      }
    }
  })
  return { stream, written: () => Buffer.concat(chunks).toString('utf8') }
}

const made: string[] = []
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'log-file-test-'))
  made.push(dir)
  return dir
}
afterAll(() => Promise.all(made.map(dir => rm(dir, { recursive: true, force: true }))))

describe('NodeLogFile', () => {
  it('survives a failing write: no error escapes, a waiting writer is resumed, close says why', async () => {
    const { stream, written } = failingStream(1)
    const file = new NodeLogFile(stream, { flushBytes: 1 })
    expect(file.line('first line')).toBe(false) // backpressure: the writer waits
    const resumed = new Promise<void>(resolve => file.whenWritable(resolve))
    file.line('second line') // this write fails
    await resumed
    // Once failed, lines are dropped without waiting and without throwing.
    for (let i = 0; i < 100; i++) expect(file.line(`line ${i}`)).toBe(true)
    const resumedAgain = await new Promise<boolean>(resolve =>
      file.whenWritable(() => resolve(true))
    )
    expect(resumedAgain).toBe(true)
    const issue = await file.close(['tail'])
    expect(issue).toEqual({
      kind: 'failed',
      error: 'ENOSPC: no space left on device, write',
      keptBytes: 'first line\n'.length + 'second line\n'.length
    })
    expect(written()).toBe('first line\n')
  })

  it('survives a file that cannot be opened', async () => {
    const dir = await tempDir()
    const path = join(dir, 'taken.log')
    await mkdir(path) // the name is taken by a directory: even root cannot open it as a file
    const file = openLogFile(path, { flushBytes: 1 })
    for (let i = 0; i < 10; i++) file.line(`line ${i}`)
    await new Promise<void>(resolve => file.whenWritable(resolve))
    const issue = await file.close()
    expect(issue).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^EEXIST/) })
  })

  it('keeps whole lines up to the cap, then notes how much was cut and the last lines', async () => {
    const dir = await tempDir()
    const path = join(dir, 'capped.log')
    const file = openLogFile(path, { capBytes: 100, flushBytes: 30 })
    const lines = Array.from({ length: 40 }, (_, i) => `line number ${String(i).padStart(2, '0')}`)
    for (const line of lines) file.line(line) // 15 bytes each with the newline: 600 in all
    const issue = await file.close(lines.slice(-2))
    const text = await readFile(path, 'utf8')
    const kept = text.slice(0, text.indexOf('…'))
    expect(kept).toBe(
      lines
        .slice(0, 6)
        .map(l => `${l}\n`)
        .join('')
    ) // 90 bytes: a 7th would pass 100
    expect(issue).toEqual({ kind: 'capped', capBytes: 100, cutBytes: 600 - 90 })
    expect(text).toContain('510 more bytes were not kept')
    expect(text.trimEnd().split('\n').slice(-2)).toEqual(lines.slice(-2))
  })

  it('writes a log under the cap whole, and says nothing is missing', async () => {
    const dir = await tempDir()
    const path = join(dir, 'whole.log')
    const file = openLogFile(path, { capBytes: 1000, flushBytes: 10 })
    for (const line of ['a', 'ü b', 'c']) file.line(line)
    expect(await file.close(['c'])).toBeNull()
    expect(await readFile(path, 'utf8')).toBe('a\nü b\nc\n')
  })

  it('counts the cap in bytes, not characters', async () => {
    const dir = await tempDir()
    const path = join(dir, 'utf8.log')
    const file = openLogFile(path, { capBytes: 10, flushBytes: 1 })
    file.line('ääää') // 9 bytes with the newline
    file.line('ä') // 3 more: over the cap
    expect(await file.close()).toEqual({ kind: 'capped', capBytes: 10, cutBytes: 3 })
    expect((await readFile(path, 'utf8')).startsWith('ääää\n…')).toBe(true)
  })
})

describe('logFileName', () => {
  it('gives names that sanitise alike their own files, inside the directory', () => {
    const names = [
      'a b',
      'a_b',
      'a/b',
      'a\\b',
      '..',
      '../../etc/passwd',
      '',
      '-rf',
      'x'.repeat(500)
    ]
    const files = names.map((name, index) => logFileName(index, name))
    expect(new Set(files).size).toBe(names.length)
    for (const file of files) {
      expect(basename(file)).toBe(file)
      expect(file).toMatch(/^\d{3}-[A-Za-z0-9._-]*\.log$/)
      expect(file.length).toBeLessThan(100)
    }
  })
})
