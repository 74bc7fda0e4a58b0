/**
 * Every GitHub API call of the report is bounded: a request that gets no
 * answer ends after the client's timeout with a warning, and the result of
 * the step is not touched. The fake API holds stalled requests unanswered.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  commentMarker,
  PullRequestCommentError,
  upsertPullRequestComment
} from '../../../src/report/comment.js'
import { createDeploymentTracker } from '../../../src/report/deployments.js'
import {
  API_TIMEOUT_MS,
  ApiTimeoutError,
  createGitHubClient
} from '../../../src/report/github-client.js'
import { describeApiError } from '../../../src/report/api-error.js'
import { startFakeGitHub, type FakeGitHub } from '../../../test-support/github-api/server.js'

const MARKER = commentMarker('Deploy', 'dry-run')
/** Short, so a stalled request ends quickly; the fake answers others in milliseconds. */
const TIMEOUT_MS = 300

let server: FakeGitHub
beforeEach(async () => {
  server = await startFakeGitHub()
})
afterEach(async () => {
  await server.stop()
})
const client = () => createGitHubClient('tok', { baseUrl: server.url, timeoutMs: TIMEOUT_MS })

describe('the GitHub client', () => {
  it('has a default timeout above GitHub’s own 10-second limit, and bounded', () => {
    expect(API_TIMEOUT_MS).toBeGreaterThan(10_000)
    expect(API_TIMEOUT_MS).toBeLessThanOrEqual(60_000)
  })

  it('ends a request that gets no answer with ApiTimeoutError, and describes it without the request', async () => {
    server.stallOn({ path: '/repos/acme/infra/issues/1/comments' })
    const error = await client()
      .rest.issues.listComments({ owner: 'acme', repo: 'infra', issue_number: 1 })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiTimeoutError)
    expect(describeApiError(error)).toEqual({
      status: null,
      message: 'no answer within 0.3 s',
      timedOut: true
    })
  })

  it('answers normally when the API does', async () => {
    const { data } = await client().rest.issues.createComment({
      owner: 'acme',
      repo: 'infra',
      issue_number: 1,
      body: 'hello'
    })
    expect(data.body).toBe('hello')
  })
})

describe('PR comment on an API that does not answer', () => {
  it.each([
    ['listing', { method: 'GET', path: /\/comments$/ }, 'list the comments'],
    ['creating', { method: 'POST', path: /\/comments$/ }, 'write a comment']
  ])('gives up %s after the timeout with a warning', async (_what, route, doing) => {
    server.stallOn(route)
    const error = (await upsertPullRequestComment(client(), {
      owner: 'acme',
      repo: 'infra',
      issueNumber: 1,
      marker: MARKER,
      body: 'x'
    }).catch((e: unknown) => e)) as PullRequestCommentError
    expect(error).toBeInstanceOf(PullRequestCommentError)
    expect(error.message).toContain(`pr-comment: could not ${doing} `)
    expect(error.message).toMatch(
      /\(no answer within 0.3 s\)\. The GitHub API did not answer in time; the next run will try again\.$/
    )
  })
})

describe('deployments on an API that does not answer', () => {
  it('warns once and stops calling the API, so a stalled API costs one timeout, not three per node', async () => {
    server.stallOn({ method: 'POST', path: '/repos/acme/infra/deployments' })
    const warnings: string[] = []
    const tracker = createDeploymentTracker(client(), {
      owner: 'acme',
      repo: 'infra',
      ref: 'abc',
      runUrl: null,
      warn: message => warnings.push(message)
    })
    await tracker.start('web')
    await tracker.start('db')
    await tracker.finish('web', 'deployed', null)
    await tracker.finish('db', 'failed', 'boom')
    expect(warnings).toEqual([
      'deployments: could not create a deployment for web (no answer within 0.3 s). The GitHub API did not answer in time; the next run will try again. No further deployment updates will be attempted in this run.'
    ])
    expect(server.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/infra/deployments'
    ])
  })
})
