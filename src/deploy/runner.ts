import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { NodeReport, NodeResult, NodeStatus, Stage } from '../model.js'
import type { PlannedNode } from '../plan/targets.js'
import { classifyRun } from './classify.js'
import type { Launcher } from './launcher.js'
import { LineSplitter } from './line-splitter.js'
import { logFileName, openLogFile, type NodeLogFile } from './log-file.js'
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
  /** Time between SIGTERM and SIGKILL of a node's process group after host-timeout. */
  killGraceMs?: number
  /**
   * The same on cancellation, shorter: the runner allows about 10 s from its
   * cancel signal, and the report must be written within them.
   */
  cancelKillGraceMs?: number
  /** After the SIGKILL on cancellation, how long the node's output may still flow before it is cut. */
  cancelDrainMs?: number
  /** Bytes of each node's log file kept on disk (default LOG_FILE_CAP_BYTES). */
  logFileCapBytes?: number
  /** Live lines echoed per node before the rest goes only to its log file. */
  liveEchoBytes?: number
  tailLines?: number
}

const DEFAULT_KILL_GRACE_MS = 5_000
const DEFAULT_CANCEL_KILL_GRACE_MS = 2_000
const DEFAULT_CANCEL_DRAIN_MS = 1_000
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
        reports[index] = await deployNode(job, index, options)
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

async function deployNode(
  job: DeployJob,
  index: number,
  options: RunnerOptions
): Promise<NodeReport> {
  const { node } = job
  const started = Date.now()
  await options.onStart?.(node)
  // The job may have been cancelled while the start hook waited on the GitHub API.
  if (options.abortSignal.aborted) {
    return notStarted(
      node,
      options.dryRun,
      'cancelled',
      'the job was cancelled before this node started'
    )
  }
  const logFile = join(options.logsDir, logFileName(index, node.name))
  const logWriter = openLogFile(logFile, { capBytes: options.logFileCapBytes })
  const parser = new DeployLogParser({ tailLines: options.tailLines })
  const liveLimit = options.liveEchoBytes ?? DEFAULT_LIVE_ECHO_BYTES
  let echoed = 0
  let echoStopped = false

  const child = options.launch(job.argv, options.env)
  const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
    parser.push(line, stream)
    if (!logWriter.line(line)) pauseUntilWritable(logWriter, child.stdout, child.stderr)
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
  let killAt = Infinity
  const stop = (graceMs: number): void => {
    child.killGroup('SIGTERM')
    // A cancellation during a timeout's grace may only bring the SIGKILL forward.
    if (Date.now() + graceMs >= killAt) return
    killAt = Date.now() + graceMs
    if (killTimer) clearTimeout(killTimer)
    killTimer = setTimeout(() => child.killGroup('SIGKILL'), graceMs)
  }
  const timeout = setTimeout(() => {
    timedOut = true
    stop(options.killGraceMs ?? DEFAULT_KILL_GRACE_MS)
  }, options.hostTimeoutMs)
  let giveUp: NodeJS.Timeout | undefined
  const givenUp = new Promise<null>(resolve => {
    const onAbort = (): void => {
      cancelled = true
      const graceMs = options.cancelKillGraceMs ?? DEFAULT_CANCEL_KILL_GRACE_MS
      stop(graceMs)
      // Output still flowing after the SIGKILL comes from a process that left the group:
      // it cannot hold up the report.
      giveUp = setTimeout(
        () => resolve(null),
        graceMs + (options.cancelDrainMs ?? DEFAULT_CANCEL_DRAIN_MS)
      )
    }
    options.abortSignal.addEventListener('abort', onAbort, { once: true })
    if (options.abortSignal.aborted) onAbort()
    void child.exited.then(() => options.abortSignal.removeEventListener('abort', onAbort))
  })

  const exit = (await Promise.race([child.exited, givenUp])) ?? {
    code: null,
    signal: null,
    startError: null
  }
  clearTimeout(timeout)
  if (killTimer) clearTimeout(killTimer)
  if (giveUp) clearTimeout(giveUp)
  // Whatever happened, leave nothing of this node running.
  child.killGroup('SIGKILL')
  child.stdout.destroy()
  child.stderr.destroy()
  stdout.flush()
  stderr.flush()
  const logFileIssue = await logWriter.close(parser.tail())

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
  return {
    result,
    logFile,
    logTail: parser.tail(),
    logBytes: stdout.bytesSeen + stderr.bytesSeen,
    logFileIssue
  }
}

/** Stops reading the child while the log file catches up, so memory stays bounded. */
function pauseUntilWritable(log: NodeLogFile, ...streams: Readable[]): void {
  if (streams.every(stream => stream.isPaused())) return
  for (const stream of streams) stream.pause()
  log.whenWritable(() => {
    for (const stream of streams) stream.resume()
  })
}
