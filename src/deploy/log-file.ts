import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import type { LogFileIssue } from '../model.js'

/**
 * 64 MiB per node. The job log prints at most 8 MiB of a node's file, and a
 * NixOS deploy, even with verbose builds, prints a few MiB; the cap only
 * stops a runaway host from filling RUNNER_TEMP (every node that runs at
 * once can write this much) while leaving 8× what is ever printed.
 */
export const LOG_FILE_CAP_BYTES = 64 * 1024 * 1024

export interface LogFileOptions {
  /** Bytes of log kept in the file; later lines are counted, not written. */
  capBytes?: number
  /** Bytes gathered before one write. */
  flushBytes?: number
}

/**
 * The file name of the `index`-th node's log: the index keeps names apart that
 * sanitise alike (`a b`, `a_b`, `a/b`), and the name keeps only characters that
 * cannot leave the directory or start an option.
 */
export function logFileName(index: number, nodeName: string): string {
  const readable = nodeName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)
  return `${String(index + 1).padStart(3, '0')}-${readable}.log`
}

/** Opens a node's log file: a new file (0600), never one that is there already. */
export function openLogFile(path: string, options: LogFileOptions = {}): NodeLogFile {
  return new NodeLogFile(createWriteStream(path, { flags: 'wx', mode: 0o600 }), options)
}

/**
 * A node's log file, written in large pieces: one write per line cost more
 * than parsing the line when a host floods its output.
 *
 * Keeping the file is best effort: a write that fails (disk full, EMFILE, a
 * file size limit) or a log over the cap never stops the deploy. The file
 * then keeps what it had, and `close()` says what it lacks.
 */
export class NodeLogFile {
  private parts: string[] = []
  private size = 0
  private keptBytes = 0
  private cutBytes = 0
  private error: string | null = null
  private readonly capBytes: number
  private readonly flushBytes: number

  constructor(
    private readonly stream: Writable,
    options: LogFileOptions = {}
  ) {
    this.capBytes = options.capBytes ?? LOG_FILE_CAP_BYTES
    this.flushBytes = options.flushBytes ?? 64 * 1024
    // Without a listener an 'error' event would crash the whole step.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.error ??= error.message || error.code || String(error)
      this.parts = []
      this.size = 0
    })
  }

  /** Adds a line; false when the writer should wait for `whenWritable`. */
  line(text: string): boolean {
    this.parts.push(text, '\n')
    this.size += text.length + 1
    return this.size >= this.flushBytes ? this.flush() : true
  }

  /** Calls `resume` once the file takes writes again, or once it has failed (nothing to wait for then). */
  whenWritable(resume: () => void): void {
    if (this.failed()) {
      resume()
      return
    }
    let resumed = false
    const once = (): void => {
      if (resumed) return
      resumed = true
      this.stream.off('drain', once)
      this.stream.off('error', once)
      this.stream.off('close', once)
      resume()
    }
    this.stream.on('drain', once)
    this.stream.on('error', once)
    this.stream.on('close', once)
  }

  flush(): boolean {
    if (this.size === 0) return true
    const text = this.parts.join('')
    this.parts = []
    this.size = 0
    if (this.failed()) return true
    const bytes = Buffer.from(text, 'utf8')
    if (this.cutBytes > 0 || this.keptBytes + bytes.length > this.capBytes) {
      return this.writeUpToCap(bytes)
    }
    this.keptBytes += bytes.length
    return this.stream.write(bytes)
  }

  /**
   * Writes what is left, notes at the end of a capped file how much is missing
   * (followed by `tail`, the log's last lines, so its end is still there), and
   * closes the file. Never rejects.
   */
  async close(tail: readonly string[] = []): Promise<LogFileIssue | null> {
    this.flush()
    if (this.cutBytes > 0 && !this.failed()) {
      const note = [
        `… this log file stops here: it reached its cap of ${mebibytes(this.capBytes)}, and ${this.cutBytes} more bytes were not kept (the action still read all of them).`,
        ...(tail.length > 0 ? [`… the last ${tail.length} lines of the log were:`, ...tail] : [])
      ]
      this.stream.write(`${note.join('\n')}\n`)
    }
    await new Promise<void>(resolve => {
      if (this.failed()) {
        this.stream.destroy()
        resolve()
        return
      }
      this.stream.once('close', resolve)
      this.stream.once('error', () => resolve())
      this.stream.end()
    })
    if (this.error !== null) return { kind: 'failed', error: this.error, keptBytes: this.keptBytes }
    if (this.cutBytes > 0) {
      return { kind: 'capped', capBytes: this.capBytes, cutBytes: this.cutBytes }
    }
    return null
  }

  private failed(): boolean {
    return this.error !== null || this.stream.destroyed
  }

  /** Keeps the whole lines that still fit under the cap; counts the rest as cut. */
  private writeUpToCap(bytes: Buffer): boolean {
    const room = this.capBytes - this.keptBytes
    const fits = this.cutBytes > 0 || room <= 0 ? 0 : bytes.lastIndexOf(0x0a, room - 1) + 1
    this.cutBytes += bytes.length - fits
    if (fits === 0) return true
    this.keptBytes += fits
    return this.stream.write(bytes.subarray(0, fits))
  }
}

function mebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  return mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${bytes} bytes`
}
