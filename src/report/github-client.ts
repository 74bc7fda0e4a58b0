/**
 * The one GitHub API client of the report (PR comment, deployments, token
 * identity). Every request it sends is bounded in time and carries no known
 * secret: both are done here, at the boundary, so no caller can forget them.
 */
import { getOctokit } from '@actions/github'
import { redactSecrets } from '../secret-registry.js'
import type { Octokit } from './api-error.js'

/**
 * Per request. GitHub ends a request it has worked on for 10 seconds itself
 * (it answers with a timeout error), so a request still unanswered after 20
 * seconds is lost on the way (a stalled proxy or connection): twice GitHub's
 * own limit leaves room for a slow network without letting one request hold
 * the job. With a bounded number of requests, the report phase is bounded.
 */
export const API_TIMEOUT_MS = 20_000

/** The free-text fields of the requests the action makes (comment body, deployment descriptions). */
const TEXT_FIELDS = ['body', 'description'] as const

/** A request that got no answer within the timeout. Carries no request details (they hold the token). */
export class ApiTimeoutError extends Error {
  readonly timeoutMs: number
  constructor(timeoutMs: number) {
    super(`no answer within ${Number((timeoutMs / 1000).toFixed(1))} s`)
    this.name = 'ApiTimeoutError'
    this.timeoutMs = timeoutMs
  }
}

export interface GitHubClientOptions {
  /** API base URL; default `GITHUB_API_URL` (as `@actions/github` reads it). */
  baseUrl?: string
  /** Per-request timeout; default `API_TIMEOUT_MS`. */
  timeoutMs?: number
}

export function createGitHubClient(token: string, opts: GitHubClientOptions = {}): Octokit {
  const timeoutMs = opts.timeoutMs ?? API_TIMEOUT_MS
  const octokit = getOctokit(token, opts.baseUrl ? { baseUrl: opts.baseUrl } : {})
  octokit.hook.wrap('request', async (request, options) => {
    const params = options as Record<string, unknown>
    for (const field of TEXT_FIELDS) {
      if (typeof params[field] === 'string') params[field] = redactSecrets(params[field])
    }
    const timeout = AbortSignal.timeout(timeoutMs)
    const callerSignal = options.request?.signal
    options.request = {
      ...options.request,
      signal: callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout
    }
    try {
      return await request(options)
    } catch (error) {
      if (timeout.aborted) throw new ApiTimeoutError(timeoutMs)
      throw error
    }
  })
  return octokit
}
