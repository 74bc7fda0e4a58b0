/**
 * Turning a failed GitHub API call into one clear sentence for a warning.
 * Only the HTTP status and GitHub's own message are used: never the request
 * (whose headers hold the token).
 */
import type { getOctokit } from '@actions/github'
import { ApiTimeoutError } from './github-client.js'
import { capChars, oneLine } from './markdown.js'

/** The client `@actions/github` returns; tests pass one whose `baseUrl` is a fake server. */
export type Octokit = ReturnType<typeof getOctokit>

export interface ApiFailure {
  /** HTTP status, or null when no response came (network, DNS, TLS). */
  status: number | null
  /** GitHub's message (plus validation details), one line. */
  message: string
  /** No answer came within the client's per-request timeout. */
  timedOut: boolean
}

export function describeApiError(err: unknown): ApiFailure {
  if (err instanceof ApiTimeoutError) return { status: null, message: err.message, timedOut: true }
  let status: number | null = null
  let message = String(err)
  if (err !== null && typeof err === 'object') {
    const e = err as {
      status?: unknown
      message?: unknown
      request?: unknown
      response?: { status?: unknown; data?: unknown }
    }
    // Octokit reports a failure without a response (network, DNS, TLS) as
    // status 500 with a `request` but no `response`: that is no HTTP status.
    const noResponse = e.request !== undefined && e.response === undefined
    if (typeof e.response?.status === 'number') status = e.response.status
    else if (!noResponse && typeof e.status === 'number' && e.status > 0) status = e.status
    if (typeof e.message === 'string') message = e.message
    const data = e.response?.data as { message?: unknown; errors?: unknown } | undefined
    if (data && typeof data === 'object' && typeof data.message === 'string') {
      message = data.message
      if (Array.isArray(data.errors)) {
        const details = data.errors
          .map(d => (d && typeof d === 'object' && 'message' in d ? String(d.message) : ''))
          .filter(Boolean)
        if (details.length > 0) message += ` (${details.join('; ')})`
      }
    }
  }
  return { status, message: capChars(oneLine(message), 300) || 'unknown error', timedOut: false }
}

/**
 * `<feature>: could not <doing> (HTTP 403: Resource not accessible by integration). <hint>`
 * where the hint depends on the status. `permissionHint` explains 403s.
 */
export function explainApiError(
  feature: string,
  doing: string,
  err: unknown,
  permissionHint: string
): { status: number | null; message: string; timedOut: boolean } {
  const { status, message, timedOut } = describeApiError(err)
  const http = status === null ? message : `HTTP ${status}: ${message}`
  let hint: string
  if (timedOut) hint = 'The GitHub API did not answer in time; the next run will try again.'
  else if (status === null) hint = 'The GitHub API could not be reached.'
  else if (status === 401) hint = 'The token was rejected; check the `github-token` input.'
  else if (status === 429 || (status === 403 && /rate limit/i.test(message)))
    hint = 'The GitHub API rate limit was hit; the next run will try again.'
  else if (status === 403) hint = permissionHint
  else if (status === 404)
    hint = `Either it does not exist or the token cannot see it. ${permissionHint}`
  else hint = 'GitHub refused the request.'
  return { status, message: `${feature}: could not ${doing} (${http}). ${hint}`, timedOut }
}
