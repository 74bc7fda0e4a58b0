import * as core from '@actions/core'
import type { Settings } from '../inputs.js'
import type { NodeReport, RunContext } from '../model.js'
import type { PlannedNode } from '../plan/targets.js'
import { wantsPrComment, type RunEnvironment } from '../run-environment.js'
import { redactDeep } from '../secret-registry.js'
import { annotateFailures } from './annotations.js'
import { commentMarker, renderComment, upsertPullRequestComment } from './comment.js'
import { createDeploymentTracker } from './deployments.js'
import { createGitHubClient } from './github-client.js'
import { printNodeLogs } from './job-log.js'
import { codeSpan, mdText } from './markdown.js'
import { writeOutputs } from './outputs.js'
import { renderSummary } from './summary.js'

/** Everything the report is made of. */
export interface ReportInput {
  context: RunContext
  settings: Settings | null
  environment: RunEnvironment
  /** The node names `targets` resolved to, in order (the `hosts` output). */
  targetNodes: string[]
  reports: NodeReport[]
  planOnly: boolean
}

/** Runs a report step that may take long (log groups, the GitHub API); the caller may bound it. */
export type ReportStepBound = (what: string, step: () => Promise<void>) => Promise<void>

/**
 * Outputs, job summary, annotations, per-node log groups and the PR comment,
 * each written even when another could not be. Outputs and summary come
 * first and are never bounded.
 */
export async function publishReport(
  input: ReportInput,
  bound: ReportStepBound = (_what, step) => step()
): Promise<void> {
  const results = input.reports.map(report => report.result)
  await attempt('outputs', async () => writeOutputs(results, input.targetNodes))
  await attempt('job summary', async () => {
    const markdown =
      input.planOnly && !input.context.runError
        ? renderPlanSummary(input.context, input.targetNodes)
        : // Before rendering: a secret escaped or cut by rendering would escape any masking.
          renderSummary(redactDeep(input.context), redactDeep(input.reports))
    await core.summary.addRaw(markdown).write()
  })
  if (input.planOnly) return
  // A run-level error is the step's one error annotation; nodes it skipped would only repeat it.
  if (!input.context.runError) await attempt('annotations', async () => annotateFailures(results))
  await attempt('log groups', () => bound('log groups', () => printNodeLogs(input.reports)))
  await attempt('pr-comment', () => bound('pr-comment', () => commentOnPullRequest(input)))
}

async function commentOnPullRequest(input: ReportInput): Promise<void> {
  const { settings, environment } = input
  if (!settings || !wantsPrComment(settings.prComment, environment) || input.reports.length === 0)
    return
  if (!environment.owner || !environment.repo || environment.pullRequestNumber === null) return
  if (!settings.githubToken) {
    core.warning(
      'pr-comment: github-token is empty, so no comment was written (on pull requests from forks there is no token with write access).'
    )
    return
  }
  // Matrix legs share one job id: their targets tell their comments apart.
  const targets = settings.targets === 'all' ? '' : `:${[...settings.targets].sort().join(',')}`
  const marker = commentMarker(environment.workflow, `${environment.job}${targets}`)
  // Redacted before rendering as well as when sent: rendering escapes and shortens
  // text, and a secret escaped or cut in half would no longer be found.
  const body = renderComment(redactDeep(input.context), redactDeep(input.reports), { marker })
  try {
    const comment = await upsertPullRequestComment(createGitHubClient(settings.githubToken), {
      owner: environment.owner,
      repo: environment.repo,
      issueNumber: environment.pullRequestNumber,
      marker,
      body
    })
    for (const { id, author } of comment.ignored)
      core.info(
        `pr-comment: comment ${id} by ${/^[\w.[\]-]{1,64}$/.test(author) ? author : 'another author'} carries this job's marker but was not written by this token; it was left alone.`
      )
    for (const warning of comment.warnings) core.warning(warning)
    core.info(`pr-comment: ${comment.action} ${comment.url}`)
  } catch (error) {
    core.warning(error instanceof Error ? error.message : String(error))
  }
}

/** Start and finish hooks that record one GitHub deployment per node; null when not wanted. */
export function deploymentHooks(
  settings: Settings,
  environment: RunEnvironment,
  dryRun: boolean
): {
  onStart: (node: PlannedNode) => Promise<void>
  onFinish: (report: NodeReport) => Promise<void>
} | null {
  // Dry runs change nothing, so they record no deployment.
  if (!settings.deployments || dryRun) return null
  if (!environment.owner || !environment.repo || !settings.githubToken) {
    core.warning(
      'deployments: no repository or token in this environment, so no deployments are recorded.'
    )
    return null
  }
  const tracker = createDeploymentTracker(createGitHubClient(settings.githubToken), {
    owner: environment.owner,
    repo: environment.repo,
    ref: environment.sha,
    runUrl: environment.runUrl,
    warn: message => core.warning(message)
  })
  return {
    onStart: node => tracker.start(node.name),
    onFinish: report =>
      tracker.finish(report.result.node, report.result.status, report.result.error)
  }
}

/** The summary of a plan-only run: which nodes the fan-out jobs will deploy. */
export function renderPlanSummary(context: RunContext, nodeNames: readonly string[]): string {
  return [
    '## deploy-rs plan',
    '',
    `Flake ${codeSpan(context.flake)} · ${nodeNames.length} node(s) · nothing was deployed (plan-only)`,
    '',
    ...nodeNames.map(name => `- ${mdText(name)}`),
    ''
  ].join('\n')
}

async function attempt(what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step()
  } catch (error) {
    core.warning(
      `Could not write the ${what}: ${error instanceof Error ? error.message : String(error)}`
    )
  }
}
