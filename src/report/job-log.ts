/**
 * At the end of a run, each node's full log in its own collapsible group of
 * the job log (nodes that did not succeed first), streamed from disk.
 *
 * The log lines are printed inside inert blocks (untrusted-text.ts): a host
 * printing `##[add-mask]...` or `::error::...` anywhere in a line gives the
 * runner no command. Each starts with `LINE_PREFIX`, which sets them apart
 * from the action's own lines. A log over `maxBytesPerNode` is printed as its
 * first quarter and its last three quarters of that size, with a line saying
 * what was cut.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { NodeReport } from '../model.js'
import { isSuccess } from '../model.js'
import { inertBlock, untrusted } from '../untrusted-text.js'
import { formatBytes, logGroupTitle } from './format.js'

export const LINE_PREFIX = '│ '
export const MAX_LOG_BYTES_PER_NODE = 8 * 1024 * 1024
/** A longer line (no newline for this many characters) is printed in pieces. */
const MAX_LINE_CHARS = 64 * 1024
const FLUSH_CHARS = 64 * 1024

export interface JobLogOptions {
  /** Default `MAX_LOG_BYTES_PER_NODE`. */
  maxBytesPerNode?: number
  /** Receives the text to print (whole lines ending in `\n`). Default: process.stdout. */
  write?: (text: string) => void
  /** Resume token of the inert blocks. Default: this run's (tests pass a fixed one). */
  stopToken?: string
}

/** Escapes a workflow command's data the way the runner expects (`%`, CR, LF). */
function commandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/**
 * Buffers output lines and hands them to `write` in large pieces. Log lines
 * collect into an inert block, closed before any own line and at every
 * flush: no block stays open across a write.
 */
class Printer {
  private parts: string[] = []
  private logLines: string[] = []
  private size = 0
  constructor(
    private readonly write: (text: string) => void,
    private readonly stopToken: string
  ) {}

  /** A line of the action's own (a group command). */
  raw(line: string): void {
    this.closeBlock()
    this.parts.push(`${line}\n`)
    this.grow(line.length + 1)
  }

  /** A log line: carriage-return segments become lines of their own, each prefixed. */
  logLine(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    const segments = text.includes('\r') ? text.split('\r').filter(s => s !== '') : [text]
    for (const segment of segments) {
      this.logLines.push(`${LINE_PREFIX}${segment}`)
      this.grow(LINE_PREFIX.length + segment.length + 1)
    }
  }

  flush(): void {
    this.closeBlock()
    if (this.parts.length === 0) return
    this.write(this.parts.join(''))
    this.parts = []
    this.size = 0
  }

  private closeBlock(): void {
    if (this.logLines.length === 0) return
    this.parts.push(inertBlock(this.logLines, this.stopToken))
    this.logLines = []
  }

  private grow(chars: number): void {
    this.size += chars
    if (this.size >= FLUSH_CHARS) this.flush()
  }
}

/**
 * Streams the lines of bytes `start..end-1` of a file. `skipFirst`: drop the
 * text before the first newline (a partial line, when starting mid-file).
 */
async function streamLines(
  path: string,
  start: number,
  end: number,
  skipFirst: boolean,
  onLine: (line: string) => void
): Promise<void> {
  if (end <= start) return
  const stream = createReadStream(path, {
    start,
    end: end - 1,
    encoding: 'utf8',
    highWaterMark: 64 * 1024
  })
  let pending = ''
  let skipping = skipFirst
  for await (const chunk of stream as AsyncIterable<string>) {
    pending += chunk
    let from = 0
    let nl: number
    while ((nl = pending.indexOf('\n', from)) >= 0) {
      if (skipping) skipping = false
      else onLine(pending.slice(from, nl))
      from = nl + 1
    }
    pending = pending.slice(from)
    while (pending.length > MAX_LINE_CHARS) {
      // A partial first line this long is worth showing: stop skipping after one piece.
      if (skipping) skipping = false
      else onLine(pending.slice(0, MAX_LINE_CHARS))
      pending = pending.slice(MAX_LINE_CHARS)
    }
  }
  if (pending !== '' && !skipping) onLine(pending)
}

async function printFile(path: string, cap: number, out: Printer): Promise<void> {
  const { size } = await stat(path)
  if (size === 0) {
    out.logLine('(deploy-rs printed nothing for this node)')
    return
  }
  const onLine = (line: string): void => out.logLine(line)
  if (size <= cap) {
    await streamLines(path, 0, size, false, onLine)
    return
  }
  const head = Math.floor(cap / 4)
  const tail = cap - head
  await streamLines(path, 0, head, false, onLine)
  out.logLine(
    `… ${formatBytes(size - cap)} cut here: this log is ${formatBytes(size)}; only its first ${formatBytes(head)} and last ${formatBytes(tail)} are printed …`
  )
  // Start one byte early: if that byte is a newline, no line of the tail is lost.
  await streamLines(path, size - tail - 1, size, true, onLine)
}

/**
 * Prints one `::group::` per node with its full log: nodes that did not
 * succeed first, then the others, each in the given order. Never throws: a
 * log that cannot be read is reported inside its group.
 */
export async function printNodeLogs(
  nodes: readonly NodeReport[],
  opts: JobLogOptions = {}
): Promise<void> {
  const cap = opts.maxBytesPerNode ?? MAX_LOG_BYTES_PER_NODE
  const out = new Printer(
    opts.write ?? (text => void process.stdout.write(text)),
    opts.stopToken ?? untrusted.token
  )
  const ordered = [
    ...nodes.filter(n => !isSuccess(n.result.status)),
    ...nodes.filter(n => isSuccess(n.result.status))
  ]
  for (const node of ordered) {
    out.raw(`::group::${commandData(logGroupTitle(node.result))}`)
    if (node.logFile === null) {
      out.logLine('(no log: deploy-rs never ran for this node)')
    } else {
      try {
        await printFile(node.logFile, cap, out)
      } catch (err) {
        const reason =
          (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))
        out.logLine(`(could not read the log file ${node.logFile}: ${reason})`)
      }
    }
    out.raw('::endgroup::')
    out.flush()
  }
}
