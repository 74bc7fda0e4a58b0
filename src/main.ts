import * as core from '@actions/core'
import { createNix, type FlakeCheckResult, type Nix } from './commands/nix.js'
import { launchProcess, runCommand, type Launcher, type RunCommand } from './commands/process.js'
import { createKeyscan, type Keyscan } from './commands/ssh-keyscan.js'
import { createSshKeygen, type SshKeygen } from './commands/ssh-keygen.js'
import { deployNodes } from './deploy/deploy-nodes.js'
import { chooseDeployRs } from './deploy/deploy-rs.js'
import type { NodeStage } from './deploy/node-pipeline.js'
import { healthStages } from './health/stages.js'
import { CANCELLED_BEFORE_START, noneStarted } from './deploy/outcome.js'
import { Cancellation, LOCAL_OUTPUT_EXTRA_MS } from './cancellation.js'
import { ExpectedError } from './errors.js'
import { maskSecret, readSettings, type Settings } from './inputs.js'
import { isSuccess, type NodeReport, type RunContext } from './model.js'
import { packagesStages } from './packages/node-stages.js'
import { makePlan, type Plan } from './plan/plan.js'
import { formatBytes } from './report/format.js'
import { deploymentHooks, publishReport, type ReportInput } from './report/publish.js'
import { readRunEnvironment, resolveDryRun, type RunEnvironment } from './run-environment.js'
import { prepareSsh, type SshSetup } from './ssh/prepare.js'
import { newWorkspacePath } from './ssh/workspace.js'
import { saveWorkspacePath } from './state.js'
import { LiveEcho, untrusted } from './untrusted-text.js'

/** Every external command, replaceable in tests. */
export interface Tools {
  nix: Nix
  keygen: SshKeygen
  keyscan: Keyscan
  launch: Launcher
  /** Runs one short command: ssh for the health checks and package queries on the hosts. */
  remote: RunCommand
}

export function defaultTools(): Tools {
  return {
    nix: createNix(),
    keygen: createSshKeygen(),
    keyscan: createKeyscan(),
    launch: launchProcess,
    remote: runCommand
  }
}

/** How a run ended, for the entry point. */
export interface RunEnd {
  /** The job was cancelled: the step must exit now, leaving behind work it gave up on. */
  cancelled: boolean
}

/** The main step: the run's pipeline, then the report of what it returned. */
export async function run(
  tools: Tools = defaultTools(),
  cancellation: Cancellation = new Cancellation()
): Promise<RunEnd> {
  const onSignal = (signal: NodeJS.Signals): void => {
    core.warning(
      cancellation.cancelled
        ? `Received ${signal} again: giving up on what still waits and finishing the report.`
        : `Received ${signal}: stopping every node and writing the report.`
    )
    cancellation.cancel()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const outcome = await runPipeline(tools, cancellation)
    // After a cancel, what waits on GitHub is bounded: the runner kills the step soon.
    await publishReport(outcome, (what, step) =>
      cancellation.bounded(
        what,
        step,
        core.warning,
        what === 'log groups' ? LOCAL_OUTPUT_EXTRA_MS : 0
      )
    )
    const failure = stepFailure(outcome)
    if (failure) core.setFailed(failure)
  } catch (error) {
    // Only a bug gets here: say so in one line, never as a bare stack trace.
    core.setFailed(
      `deploy-rs-action failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`
    )
    if (error instanceof Error && error.stack) core.debug(error.stack)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return { cancelled: cancellation.cancelled }
}

/** Why the step fails, or null when every node succeeded. */
function stepFailure(outcome: ReportInput): string | null {
  if (outcome.context.runError) return outcome.context.runError
  if (outcome.context.cancelled)
    return 'The job was cancelled; running and pending nodes were stopped.'
  const failed = outcome.reports.filter(report => !isSuccess(report.result.status))
  if (failed.length === 0) return null
  return `${failed.length} of ${outcome.reports.length} node(s) did not succeed: ${failed.map(r => `${r.result.node} (${r.result.status})`).join(', ')}`
}

/** `nix flake check` failed: no node starts, and the report shows its output. */
class ChecksFailed extends ExpectedError {
  constructor(readonly check: FlakeCheckResult) {
    super(check.reason ?? 'nix flake check failed')
  }
}

/** The job was cancelled before any node started. */
class CancelledBeforeStart extends ExpectedError {
  constructor() {
    super(CANCELLED_BEFORE_START)
  }
}

/** What the stages have produced so far, for the report when a later stage stops the run. */
interface Progress {
  settings: Settings | null
  plan: Plan | null
}

/**
 * settings → plan → deploy-rs command → ssh workspace ∥ flake check → nodes.
 * Each stage returns a value; an expected failure or a cancel stops the run,
 * and the one catch below turns it into every node's record.
 */
async function runPipeline(tools: Tools, cancellation: Cancellation): Promise<ReportInput> {
  const cancelled = cancellation.signal
  const environment = readRunEnvironment()
  const progress: Progress = { settings: null, plan: null }
  const stopIfCancelled = (): void => {
    if (cancelled.aborted) throw new CancelledBeforeStart()
  }
  try {
    const settings = readSettings()
    progress.settings = settings
    const dryRun = resolveDryRun(settings.dryRun, environment.eventName)
    // Flake text, node names, hostnames and commands are foreign: printed inert (untrusted-text.ts).
    untrusted.info(
      `Planning ${dryRun ? 'a dry run' : 'a deploy'} of flake ${settings.flake} (event ${environment.eventName || 'unknown'})`
    )
    if (settings.healthCheck.kind === 'command' && settings.healthCheck.command === 'true') {
      // Any other value is a command (README "Inputs"); this one checks nothing.
      core.warning(
        "health-check: 'true' runs the command `true` on each host, which always passes. For the systemd check use auto or systemd."
      )
    }
    const plan = await makePlan(settings, dryRun, tools.nix, cancelled)
    for (const warning of plan.warnings) core.warning(warning)
    untrusted.info(`Targets: ${plan.nodes.map(node => node.name).join(', ')}`)
    if (settings.planOnly) return outcomeOf(environment, settings, plan, [])
    progress.plan = plan

    // Settled before keys, scans and checks: a command that cannot run fails the run at once.
    const deployRs = await chooseDeployRs(
      settings.deployRs,
      plan.flake,
      tools.nix,
      undefined,
      cancelled
    )
    stopIfCancelled()
    const deployRsLine = `deploy-rs command: ${deployRs.argv.join(' ')} (${deployRs.reason})`
    // A warning's text is the data of its own command: the runner acts on nothing inside it.
    if (deployRs.unpinned) core.warning(deployRsLine)
    else untrusted.info(deployRsLine)

    const setup = await prepareSshWhileChecking(tools, settings, plan, environment, cancelled)
    stopIfCancelled()

    const deployments = deploymentStages(settings, environment, plan.dryRun, cancellation)
    const packages = packagesStages(setup.workspace, {
      sshUser: settings.sshUser,
      deployArgs: settings.deployArgs.deploy,
      run: tools.remote
    })
    const live = new LiveEcho(untrusted)
    // Never on dry runs: nothing was switched.
    const health = plan.dryRun
      ? { before: [], after: [] }
      : healthStages({
          check: settings.healthCheck,
          timeoutMs: settings.healthTimeoutMs,
          workspace: setup.workspace,
          sshUser: settings.sshUser,
          run: tools.remote,
          log: line => untrusted.info(line)
        })
    const reports = await deployNodes({
      plan,
      settings,
      setup,
      deployRs: deployRs.argv,
      launch: tools.launch,
      cancelled,
      // The baseline last: as close to deploy-rs's start as it can be.
      before: [...deployments.before, packages.before, ...health.before],
      // Packages first: what the push brought is known whatever the health check says.
      after: [packages.after, ...health.after],
      canary: new Set(plan.canary),
      onSettled: deployments.onSettled,
      echo: line => live.line(line)
    })
    live.flush()
    for (const report of reports) warnIfLogFileFailed(report)
    return {
      ...outcomeOf(environment, settings, plan, reports),
      context: { ...contextOf(environment, settings, plan), cancelled: cancelled.aborted }
    }
  } catch (error) {
    return stoppedOutcome(error, environment, progress, cancelled.aborted)
  }
}

/** The ssh workspace, with `nix flake check` beside it (key scans may wait on slow hosts). */
async function prepareSshWhileChecking(
  tools: Tools,
  settings: Settings,
  plan: Plan,
  environment: RunEnvironment,
  cancelled: AbortSignal
): Promise<SshSetup> {
  if (!settings.skipChecks)
    untrusted.info(`Running nix flake check on ${plan.flake} once for every node`)
  const stopCheck = new AbortController()
  const checking = settings.skipChecks
    ? Promise.resolve(null)
    : tools.nix.flakeCheck(
        plan.flake,
        settings.deployArgs.nix,
        AbortSignal.any([cancelled, stopCheck.signal])
      )
  let setup: SshSetup
  try {
    const dir = newWorkspacePath(environment.runnerTemp)
    saveWorkspacePath(dir)
    setup = await prepareSsh(dir, plan.nodes, settings, {
      keygen: tools.keygen,
      keyscan: tools.keyscan,
      mask: maskSecret,
      log: message => untrusted.info(message),
      warn: core.warning,
      abortSignal: cancelled
    })
  } catch (error) {
    stopCheck.abort()
    await checking
    throw error
  }
  const check = await checking
  if (check && !check.ok && !cancelled.aborted) throw new ChecksFailed(check)
  return setup
}

/** GitHub deployments as per-node stages: one recorded when a node starts, finished when it ends. */
function deploymentStages(
  settings: Settings,
  environment: RunEnvironment,
  dryRun: boolean,
  cancellation: Cancellation
): { before: NodeStage[]; onSettled?: (report: NodeReport) => Promise<void> } {
  const hooks = deploymentHooks(settings, environment, dryRun)
  if (!hooks) return { before: [] }
  // Once the job is cancelled, they wait on GitHub no longer than the report may.
  return {
    before: [
      {
        name: 'deployment record',
        run: async node => {
          await cancellation.bounded('deployments', () => hooks.onStart(node), core.warning)
          return {}
        }
      }
    ],
    onSettled: report =>
      cancellation.bounded('deployments', () => hooks.onFinish(report), core.warning)
  }
}

/** The report's view of the run: what it was asked, and where it ended. */
function contextOf(
  environment: RunEnvironment,
  settings: Settings | null,
  plan: Plan | null
): RunContext {
  return {
    flake: settings?.flake ?? (core.getInput('flake').trim() || '.'),
    dryRun:
      plan?.dryRun ?? (settings ? resolveDryRun(settings.dryRun, environment.eventName) : false),
    event: environment.eventName,
    sha: environment.sha,
    actor: environment.actor,
    repositoryUrl: environment.repositoryUrl,
    runUrl: environment.runUrl,
    checkFailure: null,
    runError: null,
    cancelled: false,
    canary: plan?.canary ?? []
  }
}

function outcomeOf(
  environment: RunEnvironment,
  settings: Settings | null,
  plan: Plan | null,
  reports: NodeReport[]
): ReportInput {
  return {
    context: contextOf(environment, settings, plan),
    settings,
    environment,
    targetNodes: plan?.nodes.map(node => node.name) ?? [],
    reports,
    planOnly: settings?.planOnly ?? false
  }
}

/** Every node's record when a run-level stage stopped the run before any node started. */
function stoppedOutcome(
  error: unknown,
  environment: RunEnvironment,
  { settings, plan }: Progress,
  cancelled: boolean
): ReportInput {
  const outcome = outcomeOf(environment, settings, plan, [])
  const nodes = plan?.nodes ?? []
  const dryRun = outcome.context.dryRun
  // A command stopped by the cancel failed because of it: the run was cancelled, not broken.
  if (cancelled) {
    outcome.context.cancelled = true
    outcome.reports = noneStarted(nodes, dryRun, 'cancelled', CANCELLED_BEFORE_START)
  } else if (error instanceof ChecksFailed) {
    outcome.context.checkFailure = error.check.outputTail
    outcome.reports = noneStarted(nodes, dryRun, 'skipped', `not started: ${error.message}`)
  } else {
    outcome.context.runError =
      error instanceof ExpectedError
        ? error.message
        : `unexpected error: ${error instanceof Error ? error.message : String(error)}`
    outcome.reports = noneStarted(
      nodes,
      dryRun,
      'skipped',
      `not started: ${outcome.context.runError}`
    )
  }
  return outcome
}

/** One warning per node whose log file could not be written: its log group is incomplete. */
function warnIfLogFileFailed(report: NodeReport): void {
  const issue = report.logFileIssue
  if (issue?.kind !== 'failed') return
  core.warning(
    `The log file of node ${report.result.node} could not be written (${issue.error}): its deploy went on and its result is unaffected, but its log group at the end of this step holds only the first ${formatBytes(issue.keptBytes)}.`
  )
}
