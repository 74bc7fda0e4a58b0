/** 64 KiB: longer lines are truncated so memory stays bounded. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024

export interface LineSplitterOptions {
  /** Longest line kept, in bytes (default 64 KiB, at least 16); the rest is replaced by a marker. */
  maxLineBytes?: number
}

/** The text appended to a truncated line. */
export function truncationMarker(droppedBytes: number): string {
  return ` [… ${droppedBytes} more bytes of this line dropped]`
}

const NEWLINE = 0x0a

/**
 * Splits a byte stream (one child's stdout or stderr) into lines.
 *
 * Feed it chunks with push(); every complete line is handed to the callback
 * as UTF-8 text without its `\n` (and without trailing `\r`). A multi-byte
 * character split between chunks is decoded whole. Whatever a process
 * prints, at most maxLineBytes (plus one partial character) are held:
 * a 256 MiB line without a newline costs no more than a short one.
 * Call flush() when the stream ends to emit the last unterminated line.
 */
export class LineSplitter {
  private readonly maxLineBytes: number
  /** Bytes of the current line held so far (at most maxLineBytes). */
  private parts: Buffer[] = []
  private partsLength = 0
  /** Bytes of the current line dropped by truncation. */
  private dropped = 0
  private total = 0

  constructor(
    private readonly onLine: (line: string) => void,
    options: LineSplitterOptions = {}
  ) {
    this.maxLineBytes = Math.max(16, Math.floor(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES))
  }

  /** Bytes fed so far. */
  get bytesSeen(): number {
    return this.total
  }

  push(chunk: Uint8Array | string): void {
    const buffer =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    this.total += buffer.length
    let start = 0
    while (start < buffer.length) {
      const newline = buffer.indexOf(NEWLINE, start)
      const end = newline === -1 ? buffer.length : newline
      if (end > start) this.append(buffer, start, end)
      if (newline === -1) break
      this.endLine()
      start = newline + 1
    }
  }

  /** Emits the last line if the stream did not end with a newline. */
  flush(): void {
    if (this.partsLength > 0 || this.dropped > 0) this.endLine()
    this.reset()
  }

  private append(buffer: Buffer, start: number, end: number): void {
    const take = Math.min(this.maxLineBytes - this.partsLength, end - start)
    // Copy: a view would keep the whole (possibly huge) chunk alive.
    if (take > 0) this.parts.push(Buffer.from(buffer.subarray(start, start + take)))
    this.partsLength += Math.max(0, take)
    this.dropped += end - start - Math.max(0, take)
  }

  private endLine(): void {
    const bytes = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts)
    if (this.dropped > 0) {
      // Cut at a byte count: drop a character left incomplete by the cut.
      const incomplete = incompleteTail(bytes)
      const kept = bytes.subarray(0, bytes.length - incomplete)
      this.onLine(kept.toString('utf8') + truncationMarker(this.dropped + incomplete))
    } else {
      this.onLine(stripCarriageReturns(bytes.toString('utf8')))
    }
    this.reset()
  }

  private reset(): void {
    this.parts = []
    this.partsLength = 0
    this.dropped = 0
  }
}

/** Bytes at the end of `bytes` that start a UTF-8 character without finishing it. */
function incompleteTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back]
    if ((byte & 0xc0) === 0x80) continue // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return needed > back ? back : 0
  }
  return 0
}

function stripCarriageReturns(text: string): string {
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 0x0d) end--
  return end === text.length ? text : text.slice(0, end)
}
