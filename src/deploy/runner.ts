import { createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { NodeReport, NodeResult, NodeStatus, Stage } from '../model.js'
import type { PlannedNode } from '../plan/targets.js'
import { classifyRun } from './classify.js'
import type { Launcher } from './launcher.js'
import { LineSplitter } from './line-splitter.js'
import { BufferedLogFile } from './log-file.js'
import { DeployLogParser } from './log-parser.js'

/** One deploy-rs call to make. */
export interface DeployJob {
  node: PlannedNode
  argv: string[]
}

export interface RunnerOptions {
  parallel: number
  failFast: boolean
  hostTimeoutMs: number
  dryRun: boolean
  logsDir: string
  env: NodeJS.ProcessEnv
  launch: Launcher
  /** Aborted when the job is cancelled: running nodes are stopped, pending ones not started. */
  abortSignal: AbortSignal
  /** Writes one line to the job log. */
  echo: (line: string) => void
  /** Called when a node starts and when it has a result (deployments). Errors are the hook's to handle. */
  onStart?: (node: PlannedNode) => Promise<void>
  onFinish?: (report: NodeReport) => Promise<void>
  /** Time between SIGTERM and SIGKILL of a node's process group. */
  killGraceMs?: number
  /** Live lines echoed per node before the rest goes only to its log file. */
  liveEchoBytes?: number
  tailLines?: number
}

const DEFAULT_KILL_GRACE_MS = 5_000
const DEFAULT_LIVE_ECHO_BYTES = 2 * 1024 * 1024

/**
 * Runs one deploy-rs per node, at most `parallel` at once, in the order given.
 * Returns one report per job, in the same order.
 */
export async function runDeploys(
  jobs: readonly DeployJob[],
  options: RunnerOptions
): Promise<NodeReport[]> {
  const reports: NodeReport[] = new Array(jobs.length)
  let next = 0
  let failureSeen = false

  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++
      const job = jobs[index]
      if (options.abortSignal.aborted) {
        reports[index] = notStarted(
          job.node,
          options.dryRun,
          'cancelled',
          'the job was cancelled before this node started'
        )
      } else if (options.failFast && failureSeen) {
        reports[index] = notStarted(
          job.node,
          options.dryRun,
          'skipped',
          'not started: fail-fast stopped the run after an earlier node failed'
        )
      } else {
        reports[index] = await deployNode(job, options)
        if (!['deployed', 'dry-run'].includes(reports[index].result.status)) failureSeen = true
      }
      await options.onFinish?.(reports[index])
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.parallel, jobs.length) }, worker))
  return reports
}

/** A report for a node that never ran. */
export function notStarted(
  node: PlannedNode,
  dryRun: boolean,
  status: NodeStatus,
  error: string,
  stage: Stage | null = null
): NodeReport {
  const result: NodeResult = {
    node: node.name,
    hostname: node.hostname,
    profiles: [...node.targetProfiles],
    status,
    stage,
    exitCode: null,
    durationMs: 0,
    dryRun,
    changes: null,
    error
  }
  return { result, logFile: null, logTail: [], logBytes: 0 }
}

async function deployNode(job: DeployJob, options: RunnerOptions): Promise<NodeReport> {
  const { node } = job
  const started = Date.now()
  await options.onStart?.(node)
  const logFile = join(options.logsDir, `${safeFileName(node.name)}.log`)
  const log = createWriteStream(logFile, { mode: 0o600 })
  const logWriter = new BufferedLogFile(log)
  const parser = new DeployLogParser({ tailLines: options.tailLines })
  const liveLimit = options.liveEchoBytes ?? DEFAULT_LIVE_ECHO_BYTES
  let echoed = 0
  let echoStopped = false

  const child = options.launch(job.argv, options.env)
  const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
    parser.push(line, stream)
    if (!logWriter.line(line)) pauseUntilDrained(log, child.stdout, child.stderr)
    if (echoed < liveLimit) {
      echoed += line.length
      // The node prefix keeps a log line from ever starting with "::" (a workflow command).
      // The runner also ends lines at a bare CR, so every CR-separated piece gets the prefix.
      for (const piece of line.split('\r')) options.echo(`${node.name} | ${piece}`)
    } else if (!echoStopped) {
      echoStopped = true
      options.echo(
        `${node.name} | … more output: see the "${node.name}" log group at the end of the job`
      )
    }
  }
  const stdout = new LineSplitter(onLine('stdout'))
  const stderr = new LineSplitter(onLine('stderr'))
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))

  let timedOut = false
  let cancelled = false
  let killTimer: NodeJS.Timeout | undefined
  const stop = (): void => {
    child.killGroup('SIGTERM')
    killTimer ??= setTimeout(
      () => child.killGroup('SIGKILL'),
      options.killGraceMs ?? DEFAULT_KILL_GRACE_MS
    )
  }
  const timeout = setTimeout(() => {
    timedOut = true
    stop()
  }, options.hostTimeoutMs)
  const onAbort = (): void => {
    cancelled = true
    stop()
  }
  options.abortSignal.addEventListener('abort', onAbort, { once: true })
  if (options.abortSignal.aborted) onAbort()

  const exit = await child.exited
  clearTimeout(timeout)
  if (killTimer) clearTimeout(killTimer)
  // Whatever happened, leave nothing of this node running.
  child.killGroup('SIGKILL')
  options.abortSignal.removeEventListener('abort', onAbort)
  stdout.flush()
  stderr.flush()
  await logWriter.close()

  const outcome = classifyRun({
    parser,
    exitCode: exit.code,
    signal: exit.signal,
    dryRun: options.dryRun,
    timedOut,
    cancelled,
    node: node.name,
    profiles: node.targetProfiles,
    timeoutMs: options.hostTimeoutMs,
    startError: exit.startError
      ? `could not start ${job.argv[0]}: ${exit.startError.message}`
      : null
  })
  const result: NodeResult = {
    node: node.name,
    hostname: node.hostname,
    profiles: [...node.targetProfiles],
    status: outcome.status,
    stage: outcome.stage,
    exitCode: exit.code,
    durationMs: Date.now() - started,
    dryRun: options.dryRun,
    changes: outcome.changes,
    error: outcome.error
  }
  return { result, logFile, logTail: parser.tail(), logBytes: stdout.bytesSeen + stderr.bytesSeen }
}

/** Stops reading the child while the log file catches up, so memory stays bounded. */
function pauseUntilDrained(log: WriteStream, ...streams: Readable[]): void {
  if (streams.every(stream => stream.isPaused())) return
  for (const stream of streams) stream.pause()
  log.once('drain', () => {
    for (const stream of streams) stream.resume()
  })
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'node'
}
