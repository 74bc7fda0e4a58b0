import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import type { NodeReport } from '../../../src/model.js'
import {
  commentMarker,
  COMMENT_MAX_CHARS,
  PullRequestCommentError,
  renderComment,
  upsertPullRequestComment
} from '../../../src/report/comment.js'
import { startFakeGitHub, type FakeGitHub } from '../../../test-support/github-api/server.js'
import { context, expectGolden, loadFixture, report, tableRows, toHtml } from './support.js'

const MARKER = commentMarker('Deploy NixOS', 'dry-run')

describe('commentMarker', () => {
  it('is a hidden HTML comment naming the workflow and the job', () => {
    expect(MARKER).toBe('<!-- deploy-rs-action:Deploy%20NixOS/dry-run -->')
    expect(toHtml(`${MARKER}\n\ntext`)).not.toContain('deploy-rs-action:Deploy%20NixOS/dry-run</')
  })

  it('differs for every workflow/job pair and never contains "--" inside', () => {
    const pairs: Array<[string, string]> = [
      ['a', 'b/c'],
      ['a/b', 'c'],
      ['a', 'b'],
      ['a', 'b '],
      ['x--y', '-->'],
      ['x', '--y-->']
    ]
    const markers = pairs.map(([w, j]) => commentMarker(w, j))
    expect(new Set(markers).size).toBe(pairs.length)
    for (const marker of markers) {
      const inner = marker.slice('<!--'.length, -'-->'.length)
      expect(inner).not.toContain('--')
      expect(inner).not.toContain('>')
    }
    // No marker is the beginning of another.
    for (const a of markers)
      for (const b of markers) if (a !== b) expect(b.startsWith(a)).toBe(false)
  })
})

describe('renderComment', () => {
  it('renders the mixed 7-node dry run (golden)', () => {
    const { context: ctx, nodes } = loadFixture('mixed-dry-run')
    expectGolden('comment-dry-run.golden.md', renderComment(ctx, nodes, { marker: MARKER }))
  })

  it('renders the mixed 7-node deploy (golden)', () => {
    const { context: ctx, nodes } = loadFixture('mixed-deploy')
    expectGolden('comment-deploy.golden.md', renderComment(ctx, nodes, { marker: MARKER }))
  })

  it('starts with the marker and shows what would change and short log tails', () => {
    const { context: ctx, nodes } = loadFixture('mixed-dry-run')
    const body = renderComment(ctx, nodes, { marker: MARKER })
    expect(body.startsWith(`${MARKER}\n`)).toBe(true)
    expect(body).toContain('### What would change (2 of 7 nodes)')
    expect(body).toContain("Last 14 lines of the log (6.0 KiB in all; deploy-rs's plan condensed)")
    const rows = tableRows(toHtml(body))
    expect(rows).toHaveLength(8)
    expect(rows.every(r => r.length === 7)).toBe(true)
  })

  it('stays under 65,536 characters, counting UTF-16 units, and says it was shortened', () => {
    const nodes: NodeReport[] = Array.from({ length: 300 }, (_, i) =>
      report(
        {
          node: `😀-${i}`,
          status: i % 2 ? 'failed' : 'dry-run',
          dryRun: true,
          error: 'boom',
          changes:
            i % 2
              ? null
              : {
                  stop: [],
                  restart: Array(500).fill('😀.service'),
                  start: [],
                  reload: [],
                  restartSystemd: true
                }
        },
        Array(100).fill('😀'.repeat(3000))
      )
    )
    const body = renderComment(context({ dryRun: true }), nodes, { marker: MARKER })
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS)
    expect(body.startsWith(MARKER)).toBe(true)
    expect(body).toMatch(
      /shortened to stay under GitHub's 65,536-character limit|The rest of this comment was cut/
    )
    expect(body).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/)
  })
})

describe('upsertPullRequestComment (fake GitHub API)', () => {
  let server: FakeGitHub
  beforeEach(async () => {
    server = await startFakeGitHub()
  })
  afterEach(async () => {
    await server.stop()
  })
  const octokit = (): ReturnType<typeof getOctokit> =>
    getOctokit('ghs_secret_token', { baseUrl: server.url })
  const params = (body: string) => ({
    owner: 'acme',
    repo: 'infra',
    issueNumber: 7,
    marker: MARKER,
    body
  })

  it('creates the comment, then updates the same comment (no duplicate)', async () => {
    const first = await upsertPullRequestComment(octokit(), params(`${MARKER}\nfirst`))
    expect(first.action).toBe('created')
    expect(first.url).toBe(`https://github.com/acme/infra/pull/7#issuecomment-${first.id}`)
    const second = await upsertPullRequestComment(octokit(), params(`${MARKER}\nsecond`))
    expect(second).toMatchObject({ action: 'updated', id: first.id, url: first.url })
    const comments = server.comments('acme', 'infra', 7)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toBe(`${MARKER}\nsecond`)
    expect(server.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/infra/issues/7/comments',
      'POST /repos/acme/infra/issues/7/comments',
      'GET /repos/acme/infra/issues/7/comments',
      // Who the token is, asked only once a comment carries the marker.
      'POST /graphql',
      `PATCH /repos/acme/infra/issues/comments/${first.id}`
    ])
    expect(server.requests.every(r => r.authorization === 'token ghs_secret_token')).toBe(true)
    expect(server.requests[0].query.per_page).toBe('100')
  })

  it('finds its comment on a later page, ignoring replies that quote it and other jobs’ comments', async () => {
    for (let i = 0; i < 120; i++) server.seedComment('acme', 'infra', 7, `comment ${i}`)
    server.seedComment('acme', 'infra', 7, `> ${MARKER}\n> quoted`)
    server.seedComment(
      'acme',
      'infra',
      7,
      `${commentMarker('Deploy NixOS', 'other-job')}\nother`,
      'github-actions[bot]'
    )
    const ours = server.seedComment('acme', 'infra', 7, `${MARKER}\nold`, 'github-actions[bot]')
    const result = await upsertPullRequestComment(octokit(), params('new, marker prepended'))
    expect(result).toMatchObject({ action: 'updated', id: ours.id })
    expect(ours.body).toBe(`${MARKER}\nnew, marker prepended`)
    expect(server.comments('acme', 'infra', 7)).toHaveLength(123)
    expect(server.requests.filter(r => r.method === 'GET').map(r => r.query.page ?? '1')).toEqual([
      '1',
      '2'
    ])
  })

  it('turns 403 into a PullRequestCommentError with a clear warning and no token', async () => {
    server.failOn({ method: 'POST', path: '/repos/acme/infra/issues/7/comments', status: 403 })
    const error = await upsertPullRequestComment(octokit(), params(`${MARKER}\nx`)).catch(
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PullRequestCommentError)
    const { message, status } = error as PullRequestCommentError
    expect(status).toBe(403)
    expect(message).toBe(
      'pr-comment: could not write a comment on pull request #7 of acme/infra (HTTP 403: Resource not accessible by integration). ' +
        "The token needs `pull-requests: write` (add it to the job's `permissions`). On pull requests from forks the `GITHUB_TOKEN` is read-only and no comment can be written: set `pr-comment: false` there and read the job summary instead. The deploy result is not affected."
    )
    expect(message).not.toContain('ghs_secret_token')
  })

  it('explains 404 (pull request missing or invisible) and 403 on listing', async () => {
    server.failOn({ method: 'GET', path: /comments$/, status: 404 })
    const e404 = (await upsertPullRequestComment(octokit(), params('x')).catch(
      (e: unknown) => e
    )) as PullRequestCommentError
    expect(e404.status).toBe(404)
    expect(e404.message).toMatch(
      /^pr-comment: could not list the comments of pull request #7 of acme\/infra \(HTTP 404: Not Found\)\. Either it does not exist or the token cannot see it\./
    )
  })

  it('says when the API cannot be reached', async () => {
    const gone = await startFakeGitHub()
    await gone.stop()
    const error = (await upsertPullRequestComment(
      getOctokit('t', { baseUrl: gone.url }),
      params('x')
    ).catch((e: unknown) => e)) as PullRequestCommentError
    expect(error).toBeInstanceOf(PullRequestCommentError)
    expect(error.status).toBeNull()
    expect(error.message).toMatch(
      /^pr-comment: could not list the comments .* The GitHub API could not be reached\.$/
    )
  })

  it('refuses a body over GitHub’s limit without calling the API', async () => {
    const error = (await upsertPullRequestComment(octokit(), params('x'.repeat(70_000))).catch(
      (e: unknown) => e
    )) as PullRequestCommentError
    expect(error.message).toMatch(/over GitHub's limit of 65536/)
    expect(server.requests).toHaveLength(0)
  })

  it('posts a rendered comment GitHub accepts', async () => {
    const { context: ctx, nodes } = loadFixture('mixed-dry-run')
    const body = renderComment(ctx, nodes, { marker: MARKER })
    const result = await upsertPullRequestComment(octokit(), params(body))
    expect(result.action).toBe('created')
    expect(server.comments('acme', 'infra', 7)[0].body).toBe(body)
  })
})
