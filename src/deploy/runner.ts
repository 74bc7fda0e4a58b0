import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { supervise, type Launcher } from '../commands/process.js'
import type { NodeReport } from '../model.js'
import type { PlannedNode } from '../plan/targets.js'
import { classifyRun } from './classify.js'
import { LineSplitter } from './line-splitter.js'
import { logFileName, openLogFile, type NodeLogFile } from './log-file.js'
import { DeployLogParser } from './log-parser.js'
import { runNodePipeline, type NodeStage } from './node-pipeline.js'
import { nodeResult } from './outcome.js'
import { scheduleNodes } from './scheduler.js'

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
  /** Per-node stages before deploy-rs starts and after it succeeded, in order. */
  before?: readonly NodeStage[]
  after?: readonly NodeStage[]
  /** Nodes deployed first; the rest only when every one of them succeeded. */
  canary?: ReadonlySet<string>
  /** Records settled before anything starts (unreachable at keyscan): fail-fast counts them. */
  settledBefore?: ReadonlyMap<string, NodeReport>
  /** Called once per node when its record is final (the caller's deployments, for one). */
  onSettled?: (report: NodeReport) => Promise<void>
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
const DEFAULT_LIVE_ECHO_BYTES = 2 * 1024 * 1024

/**
 * Runs every job through its node pipeline (stages before, deploy-rs, stages
 * after), scheduled by scheduleNodes. Returns one record per job, in job order.
 */
export function runDeploys(
  jobs: readonly DeployJob[],
  options: RunnerOptions
): Promise<NodeReport[]> {
  return scheduleNodes(jobs, options, (job, index) =>
    runNodePipeline(job.node, {
      before: options.before ?? [],
      after: options.after ?? [],
      dryRun: options.dryRun,
      abortSignal: options.abortSignal,
      deploy: () => runDeployRs(job, index, options)
    })
  )
}

/** One deploy-rs process for one node: its log file, live echo, and verdict. */
async function runDeployRs(
  job: DeployJob,
  index: number,
  options: RunnerOptions
): Promise<NodeReport> {
  const { node } = job
  const started = Date.now()
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

  const end = await supervise(child, {
    timeoutMs: options.hostTimeoutMs,
    timeoutGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    abortSignal: options.abortSignal,
    abortGraceMs: options.cancelKillGraceMs,
    abortDrainMs: options.cancelDrainMs
  })
  child.stdout.destroy()
  child.stderr.destroy()
  stdout.flush()
  stderr.flush()
  const logFileIssue = await logWriter.close(parser.tail())

  const outcome = classifyRun({
    parser,
    exitCode: end.code,
    signal: end.signal,
    dryRun: options.dryRun,
    timedOut: end.timedOut,
    cancelled: end.aborted,
    node: node.name,
    profiles: node.targetProfiles,
    timeoutMs: options.hostTimeoutMs,
    startError: end.startError ? `could not start ${job.argv[0]}: ${end.startError.message}` : null
  })
  const result = nodeResult(node, options.dryRun, {
    ...outcome,
    exitCode: end.code,
    durationMs: Date.now() - started
  })
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
