import * as core from '@actions/core'
import { createNix, NixError, type Nix } from './commands/nix.js'
import { createKeyscan, type Keyscan } from './commands/ssh-keyscan.js'
import { createSshKeygen, type SshKeygen } from './commands/ssh-keygen.js'
import { deployNodes } from './deploy/deploy-nodes.js'
import { chooseDeployRs, DeployRsError, type DeployRsChoice } from './deploy/deploy-rs.js'
import { launchProcess, type Launcher } from './deploy/launcher.js'
import { notStarted } from './deploy/runner.js'
import { Cancellation, LOCAL_OUTPUT_EXTRA_MS } from './cancellation.js'
import { InputError, maskSecret, readSettings, type Settings } from './inputs.js'
import type { NodeReport, RunContext } from './model.js'
import { isSuccess } from './model.js'
import { PlanError } from './plan/inventory.js'
import { makePlan, type Plan } from './plan/plan.js'
import { formatBytes } from './report/format.js'
import { deploymentHooks, publishReport, type ReportInput } from './report/publish.js'
import { readRunEnvironment, resolveDryRun } from './run-environment.js'
import { prepareSsh } from './ssh/prepare.js'
import { KeyFormatError } from './ssh/keys.js'
import { newWorkspacePath, WorkspaceError } from './ssh/workspace.js'
import { saveWorkspacePath } from './state.js'
import { LiveEcho, untrusted } from './untrusted-text.js'

/** Every external command, replaceable in tests. */
export interface Tools {
  nix: Nix
  keygen: SshKeygen
  keyscan: Keyscan
  launch: Launcher
}

export function defaultTools(): Tools {
  return {
    nix: createNix(),
    keygen: createSshKeygen(),
    keyscan: createKeyscan(),
    launch: launchProcess
  }
}

/** What a run produced, handed to the report whatever happened. */
export type RunOutcome = ReportInput

/** How a run ended, for the entry point. */
export interface RunEnd {
  /** The job was cancelled: the step must exit now, leaving behind work it gave up on. */
  cancelled: boolean
}

/** The main step: plan → ssh workspace → deploy → report. Fails the step when any node failed. */
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
    const outcome = await deploy(tools, cancellation)
    // After a cancel, what waits on GitHub is bounded: the runner kills the step soon.
    await publishReport(outcome, (what, step) =>
      cancellation.bounded(
        what,
        step,
        core.warning,
        what === 'log groups' ? LOCAL_OUTPUT_EXTRA_MS : 0
      )
    )
    const failed = outcome.reports.filter(report => !isSuccess(report.result.status))
    if (outcome.context.runError) {
      core.setFailed(outcome.context.runError)
    } else if (outcome.context.cancelled) {
      core.setFailed('The job was cancelled; running and pending nodes were stopped.')
    } else if (failed.length > 0) {
      core.setFailed(
        `${failed.length} of ${outcome.reports.length} node(s) did not succeed: ${failed.map(r => `${r.result.node} (${r.result.status})`).join(', ')}`
      )
    }
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

async function deploy(tools: Tools, cancellation: Cancellation): Promise<RunOutcome> {
  const cancelled = cancellation.signal
  const environment = readRunEnvironment()
  const context: RunContext = {
    flake: core.getInput('flake').trim() || '.',
    dryRun: false,
    event: environment.eventName,
    sha: environment.sha,
    actor: environment.actor,
    repositoryUrl: environment.repositoryUrl,
    runUrl: environment.runUrl,
    checkFailure: null,
    runError: null,
    cancelled: false
  }
  const outcome: RunOutcome = {
    context,
    settings: null,
    environment,
    hosts: [],
    reports: [],
    planOnly: false
  }

  let settings: Settings
  let plan: Plan
  try {
    settings = readSettings()
    outcome.settings = settings
    outcome.planOnly = settings.planOnly
    context.flake = settings.flake
    context.dryRun = resolveDryRun(settings.dryRun, environment.eventName)
    // Flake text, node names, hostnames and commands are foreign: printed inert (untrusted-text.ts).
    untrusted.info(
      `Planning ${context.dryRun ? 'a dry run' : 'a deploy'} of flake ${settings.flake} (event ${environment.eventName || 'unknown'})`
    )
    plan = await makePlan(settings, context.dryRun, tools.nix, cancelled)
  } catch (error) {
    // A nix eval stopped by the cancel failed because of it: the run was cancelled, not broken.
    if (cancelled.aborted) context.cancelled = true
    else context.runError = expectedMessage(error)
    return outcome
  }
  outcome.hosts = plan.nodes.map(node => node.name)
  for (const warning of plan.warnings) core.warning(warning)
  untrusted.info(`Targets: ${outcome.hosts.join(', ')}`)
  if (settings.planOnly) return outcome

  const skipAll = (status: 'skipped' | 'cancelled', reason: string): NodeReport[] =>
    plan.nodes.map(node => notStarted(node, plan.dryRun, status, reason))

  // Settled before keys, scans and checks: a command that cannot run fails the run at once.
  let deployRs: DeployRsChoice
  try {
    deployRs = await chooseDeployRs(settings.deployRs, plan.flake, tools.nix, undefined, cancelled)
  } catch (error) {
    context.runError = expectedMessage(error)
    outcome.reports = skipAll('skipped', `not started: ${context.runError}`)
    return outcome
  }
  if (cancelled.aborted) return cancelledBeforeStart(outcome, skipAll)
  const deployRsLine = `deploy-rs command: ${deployRs.argv.join(' ')} (${deployRs.reason})`
  // A warning's text is the data of its own command: the runner acts on nothing inside it.
  if (deployRs.unpinned) core.warning(deployRsLine)
  else untrusted.info(deployRsLine)

  // The flake check and the ssh set-up (key scans may wait on slow hosts) run side by side.
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
  let setup: Awaited<ReturnType<typeof prepareSsh>>
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
    if (cancelled.aborted) return cancelledBeforeStart(outcome, skipAll)
    context.runError = expectedMessage(error)
    outcome.reports = skipAll('skipped', `not started: ${context.runError}`)
    return outcome
  }
  const check = await checking
  if (cancelled.aborted) return cancelledBeforeStart(outcome, skipAll)
  if (check && !check.ok) {
    context.checkFailure = check.outputTail
    outcome.reports = skipAll('skipped', `not started: ${check.reason}`)
    return outcome
  }

  const live = new LiveEcho(untrusted)
  outcome.reports = await deployNodes({
    plan,
    settings,
    setup,
    deployRs: deployRs.argv,
    launch: tools.launch,
    cancelled,
    hooks: boundedHooks(deploymentHooks(settings, environment, plan.dryRun), cancellation),
    echo: line => live.line(line)
  })
  live.flush()
  context.cancelled = cancelled.aborted
  for (const report of outcome.reports) warnIfLogFileFailed(report)
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

/** Deployment hooks that, once the job is cancelled, wait on GitHub no longer than the report may. */
function boundedHooks(
  hooks: ReturnType<typeof deploymentHooks>,
  cancellation: Cancellation
): ReturnType<typeof deploymentHooks> {
  if (!hooks) return null
  return {
    onStart: node => cancellation.bounded('deployments', () => hooks.onStart(node), core.warning),
    onFinish: report =>
      cancellation.bounded('deployments', () => hooks.onFinish(report), core.warning)
  }
}

function cancelledBeforeStart(
  outcome: RunOutcome,
  skipAll: (status: 'cancelled', reason: string) => NodeReport[]
): RunOutcome {
  outcome.context.cancelled = true
  outcome.reports = skipAll('cancelled', 'the job was cancelled before this node started')
  return outcome
}

/** The message of an error we expect (bad input, nix, keys); anything else is labelled a bug. */
function expectedMessage(error: unknown): string {
  if (
    error instanceof InputError ||
    error instanceof PlanError ||
    error instanceof NixError ||
    error instanceof KeyFormatError ||
    error instanceof WorkspaceError ||
    error instanceof DeployRsError
  ) {
    return error.message
  }
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`
}
