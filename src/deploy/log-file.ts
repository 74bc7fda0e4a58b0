import type { WriteStream } from 'node:fs'

/**
 * A node's log file, written in large pieces: one write per line cost more
 * than parsing the line when a host floods its output.
 */
export class BufferedLogFile {
  private parts: string[] = []
  private size = 0

  constructor(
    private readonly stream: WriteStream,
    private readonly flushBytes = 64 * 1024
  ) {}

  /** Adds a line; false when the file wants the writer to wait for 'drain'. */
  line(text: string): boolean {
    this.parts.push(text, '\n')
    this.size += text.length + 1
    return this.size >= this.flushBytes ? this.flush() : true
  }

  flush(): boolean {
    if (this.size === 0) return true
    const text = this.parts.join('')
    this.parts = []
    this.size = 0
    return this.stream.write(text)
  }

  /** Writes what is left and closes the file. */
  close(): Promise<void> {
    this.flush()
    return new Promise(resolve => this.stream.end(resolve))
  }
}
