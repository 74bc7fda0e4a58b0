import * as github from '@actions/github'

/** What the action needs to know about the workflow run it is part of. */
export interface RunEnvironment {
  eventName: string
  sha: string
  actor: string
  owner: string | null
  repo: string | null
  repositoryUrl: string | null
  runUrl: string | null
  /** The pull request of this run, or null. */
  pullRequestNumber: number | null
  /** True when the pull request comes from a fork (its token is read-only, secrets are empty). */
  fromFork: boolean
  workflow: string
  job: string
  runnerTemp: string | undefined
}

const DRY_RUN_EVENTS = ['pull_request', 'pull_request_target', 'merge_group']

export function readRunEnvironment(env: NodeJS.ProcessEnv = process.env): RunEnvironment {
  const context = github.context
  const repository = env.GITHUB_REPOSITORY ?? ''
  const [owner, repo] = repository.includes('/') ? repository.split('/', 2) : [null, null]
  const serverUrl = context.serverUrl || 'https://github.com'
  const repositoryUrl = owner && repo ? `${serverUrl}/${owner}/${repo}` : null
  const pullRequest = context.payload.pull_request as
    { number?: number; head?: { repo?: { full_name?: string } } } | undefined
  const headRepo = pullRequest?.head?.repo?.full_name
  return {
    eventName: context.eventName ?? '',
    sha:
      pullRequest && typeof (pullRequest as { head?: { sha?: string } }).head?.sha === 'string'
        ? (pullRequest as { head: { sha: string } }).head.sha
        : (context.sha ?? ''),
    actor: context.actor ?? '',
    owner,
    repo,
    repositoryUrl,
    runUrl:
      repositoryUrl && context.runId ? `${repositoryUrl}/actions/runs/${context.runId}` : null,
    pullRequestNumber: typeof pullRequest?.number === 'number' ? pullRequest.number : null,
    fromFork: headRepo !== undefined && headRepo !== repository,
    workflow: context.workflow ?? '',
    job: context.job ?? '',
    runnerTemp: env.RUNNER_TEMP
  }
}

/** dry-run: auto means a dry run on pull requests and merge queues. */
export function resolveDryRun(setting: boolean | 'auto', eventName: string): boolean {
  return setting === 'auto' ? DRY_RUN_EVENTS.includes(eventName) : setting
}

/** pr-comment: auto means comment on pull request events. */
export function wantsPrComment(setting: boolean | 'auto', env: RunEnvironment): boolean {
  if (env.pullRequestNumber === null) return false
  return setting === 'auto'
    ? ['pull_request', 'pull_request_target'].includes(env.eventName)
    : setting
}
