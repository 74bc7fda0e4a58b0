import { describe, it, expect } from '@jest/globals'
import { fc, runs } from '../../../test-support/property/fast-check.js'
import v8 from 'node:v8'
import vm from 'node:vm'
import { LineSplitter, truncationMarker } from '../../../src/deploy/line-splitter.js'

function collect(
  chunks: (Buffer | string)[],
  options?: ConstructorParameters<typeof LineSplitter>[1]
): string[] {
  const lines: string[] = []
  const splitter = new LineSplitter(line => lines.push(line), options)
  for (const chunk of chunks) splitter.push(chunk)
  splitter.flush()
  return lines
}

/** Cuts a buffer at the given (sorted, deduplicated) offsets. */
function cut(buffer: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points)].sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let start = 0
  for (const point of sorted) {
    pieces.push(buffer.subarray(start, point))
    start = point
  }
  pieces.push(buffer.subarray(start))
  return pieces
}

/** The reference: what splitting the whole text at once gives. */
function reference(text: string): string[] {
  const parts = text.split('\n')
  if (parts.at(-1) === '') parts.pop()
  return parts.map(line => line.replace(/\r+$/, ''))
}

function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

function usedMemory(): number {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

describe('LineSplitter', () => {
  it('emits complete lines without the newline and strips a trailing \\r', () => {
    expect(collect(['one\ntwo\r\nthree\n'])).toEqual(['one', 'two', 'three'])
  })

  it('keeps empty lines and emits the unterminated last line on flush', () => {
    const lines: string[] = []
    const splitter = new LineSplitter(line => lines.push(line))
    splitter.push(Buffer.from('a\n\nb'))
    expect(lines).toEqual(['a', ''])
    splitter.flush()
    expect(lines).toEqual(['a', '', 'b'])
    splitter.flush()
    expect(lines).toEqual(['a', '', 'b'])
  })

  it('joins a line cut across chunks, including a \\r\\n cut in the middle', () => {
    expect(collect(['hel', 'lo wor', 'ld\r', '\nnext'])).toEqual(['hello world', 'next'])
  })

  it('keeps \\r inside a line (progress output) and strips only at the end', () => {
    expect(collect(['[1/3]\r[2/3]\r[3/3]\r\r\n'])).toEqual(['[1/3]\r[2/3]\r[3/3]'])
  })

  it('decodes a multi-byte UTF-8 character split between chunks', () => {
    const text = Buffer.from('🚀 ℹ️ [deploy] ‘init’\n', 'utf8')
    // Cut inside the 4-byte rocket and inside the 3-byte quote.
    const lines = collect([text.subarray(0, 2), text.subarray(2, 21), text.subarray(21)])
    expect(lines).toEqual(['🚀 ℹ️ [deploy] ‘init’'])
    // Byte by byte.
    expect(collect([...text].map(byte => Buffer.from([byte])))).toEqual(['🚀 ℹ️ [deploy] ‘init’'])
  })

  it('counts the bytes it was fed', () => {
    const splitter = new LineSplitter(() => undefined)
    splitter.push(Buffer.from('ab\n'))
    splitter.push(Buffer.from('ℹ️'))
    expect(splitter.bytesSeen).toBe(3 + 6)
  })

  it('gives the same lines at any chunk boundaries (property)', () => {
    const textArb = fc
      .array(
        fc.oneof(
          fc.constantFrom('\n', '\r\n', '\r', 'é', '🚀', 'ℹ️', '‘', ' ', 'x', '[deploy]'),
          fc.string({ maxLength: 8 })
        ),
        { maxLength: 60 }
      )
      .map(parts => parts.join(''))
    fc.assert(
      fc.property(
        textArb,
        fc.array(fc.nat(), { maxLength: 20 }),
        (text: string, rawPoints: number[]) => {
          const bytes = Buffer.from(text, 'utf8')
          const points = rawPoints.map(p => (bytes.length === 0 ? 0 : p % (bytes.length + 1)))
          expect(collect(cut(bytes, points))).toEqual(reference(text))
        }
      ),
      { numRuns: runs(500) }
    )
  })

  it('truncates an overlong line with a marker saying what was dropped', () => {
    const lines = collect(['x'.repeat(30), 'y'.repeat(30), '\nshort\n'], { maxLineBytes: 40 })
    expect(lines).toEqual(['x'.repeat(30) + 'y'.repeat(10) + truncationMarker(20), 'short'])
  })

  it('never cuts a character in half when truncating', () => {
    // 39 ASCII bytes, then a 4-byte emoji straddling the 40-byte cap.
    const lines = collect(['a'.repeat(39) + '🚀🚀\n'], { maxLineBytes: 40 })
    expect(lines).toEqual(['a'.repeat(39) + truncationMarker(8)])
    expect(lines[0]).not.toContain('\ufffd')
  })

  it('stays bounded on 256 MiB without a newline', () => {
    const gc = gcFunction()
    const lines: string[] = []
    const splitter = new LineSplitter(line => lines.push(line))
    gc()
    const before = usedMemory()
    let peakMemory = 0
    const chunkSize = 64 * 1024
    const total = 256 * 1024 * 1024
    const started = Date.now()
    for (let sent = 0, i = 0; sent < total; sent += chunkSize, i++) {
      // A fresh chunk each time, as a pipe delivers them; none is kept here.
      splitter.push(Buffer.alloc(chunkSize, 0x61 + (i % 26)))
      if (i % 512 === 0) {
        gc()
        peakMemory = Math.max(peakMemory, usedMemory() - before)
      }
    }
    gc()
    const retained = usedMemory() - before
    splitter.flush()
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(splitter.bytesSeen).toBe(total)
    expect(lines).toHaveLength(1)
    expect(lines[0].startsWith('a'.repeat(chunkSize))).toBe(true)
    expect(lines[0].endsWith(truncationMarker(total - chunkSize))).toBe(true)
    // Freed chunks may await V8's concurrent sweeper: allow slack, far below the 256 MiB fed.
    expect(retained).toBeLessThan(48 * 1024 * 1024)
    expect(peakMemory).toBeLessThan(48 * 1024 * 1024)
  })
})
