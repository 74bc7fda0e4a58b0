/**
 * The PR comment that is updated is one the token itself wrote: a comment by
 * anyone else is never edited, whatever marker it carries. Against the fake
 * GitHub API, which authors each comment as the token's identity and answers
 * `GET /user` and GraphQL `viewer` as GitHub does for each kind of token.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  commentMarker,
  PullRequestCommentError,
  upsertPullRequestComment
} from '../../../src/report/comment.js'
import { createGitHubClient } from '../../../src/report/github-client.js'
import { isAuthor, tokenLogin, TokenIdentityError } from '../../../src/report/token-identity.js'
import {
  GITHUB_ACTIONS_BOT,
  startFakeGitHub,
  type FakeGitHub
} from '../../../test-support/github-api/server.js'

const MARKER = commentMarker('Deploy NixOS', 'dry-run')
const GITHUB_TOKEN = 'ghs_jobTokenOfGithubActions0123'
const PAT = 'github_pat_11AAAAAAA0personalAccessToken'
const APP_TOKEN = 'ghs_installationTokenOfAnotherApp'
const PLANTED = `${MARKER}\n## deploy-rs dry run\n\nEverything passed ✅`

let server: FakeGitHub
beforeEach(async () => {
  server = await startFakeGitHub()
  server.setTokenIdentity(PAT, { login: 'deploy-operator', type: 'User', kind: 'user' })
  server.setTokenIdentity(APP_TOKEN, {
    login: 'acme-deployer[bot]',
    type: 'Bot',
    kind: 'installation'
  })
})
afterEach(async () => {
  await server.stop()
})

const client = (token = GITHUB_TOKEN, timeoutMs?: number) =>
  createGitHubClient(token, { baseUrl: server.url, timeoutMs })
const params = (body: string) => ({
  owner: 'acme',
  repo: 'infra',
  issueNumber: 9,
  marker: MARKER,
  body
})
const routes = () => server.requests.map(r => `${r.method} ${r.path}`)

describe('the fake API answers like GitHub for each kind of token', () => {
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }

  it('GET /user: 403 for installation tokens, the user for a personal access token', async () => {
    expect(await call(GITHUB_TOKEN, 'GET', '/user')).toMatchObject({
      status: 403,
      json: { message: 'Resource not accessible by integration' }
    })
    expect((await call(APP_TOKEN, 'GET', '/user')).status).toBe(403)
    expect(await call(PAT, 'GET', '/user')).toMatchObject({
      status: 200,
      json: { login: 'deploy-operator', type: 'User' }
    })
  })

  it('GraphQL viewer answers every kind, with the login comments show', async () => {
    const viewer = async (token: string) =>
      (await call(token, 'POST', '/graphql', { query: 'query { viewer { login } }' })).json
    expect(await viewer(GITHUB_TOKEN)).toEqual({
      data: { viewer: { login: 'github-actions[bot]' } }
    })
    expect(await viewer(APP_TOKEN)).toEqual({ data: { viewer: { login: 'acme-deployer[bot]' } } })
    expect(await viewer(PAT)).toEqual({ data: { viewer: { login: 'deploy-operator' } } })
    const created = await call(PAT, 'POST', '/repos/o/r/issues/1/comments', { body: 'x' })
    expect(created.json.user).toMatchObject({ login: 'deploy-operator', type: 'User' })
  })
})

describe('tokenLogin', () => {
  it('learns GITHUB_TOKEN, an app token and a PAT from GraphQL viewer', async () => {
    expect(await tokenLogin(client())).toBe(GITHUB_ACTIONS_BOT.login)
    expect(await tokenLogin(client(APP_TOKEN))).toBe('acme-deployer[bot]')
    expect(await tokenLogin(client(PAT))).toBe('deploy-operator')
    expect(routes()).toEqual(['POST /graphql', 'POST /graphql', 'POST /graphql'])
  })

  it('falls back to GET /user when GraphQL fails (a PAT answers there)', async () => {
    server.failOn({ path: '/graphql', status: 502 })
    expect(await tokenLogin(client(PAT))).toBe('deploy-operator')
    expect(routes()).toEqual(['POST /graphql', 'GET /user'])
  })

  it('says why when neither answers (an installation token has no GET /user)', async () => {
    server.failOn({ path: '/graphql', status: 502 })
    const error = (await tokenLogin(client()).catch((e: unknown) => e)) as TokenIdentityError
    expect(error).toBeInstanceOf(TokenIdentityError)
    expect(error.unreachable).toBe(false)
    expect(error.message).toBe(
      'GraphQL viewer: HTTP 502: Error; GET /user: HTTP 403: Resource not accessible by integration'
    )
  })

  it('compares logins the way GitHub does (case-insensitive), and never matches a missing author', () => {
    expect(isAuthor({ login: 'GitHub-Actions[bot]' }, 'github-actions[bot]')).toBe(true)
    expect(isAuthor({ login: 'github-actions' }, 'github-actions[bot]')).toBe(false)
    expect(isAuthor(null, 'github-actions[bot]')).toBe(false)
    expect(isAuthor({}, 'github-actions[bot]')).toBe(false)
  })
})

describe('upsertPullRequestComment: only the token’s own comment is updated', () => {
  it('never edits a comment the PR author planted with the exact marker; creates its own, then updates that', async () => {
    const planted = server.seedComment('acme', 'infra', 9, PLANTED, 'pr-author')

    const first = await upsertPullRequestComment(client(), params(`${MARKER}\nfirst`))
    expect(first).toMatchObject({
      action: 'created',
      warnings: [],
      ignored: [{ id: planted.id, author: 'pr-author' }]
    })
    expect(first.id).not.toBe(planted.id)

    const second = await upsertPullRequestComment(client(), params(`${MARKER}\nsecond`))
    expect(second).toMatchObject({ action: 'updated', id: first.id })

    const comments = server.comments('acme', 'infra', 9)
    expect(comments.map(c => [c.user.login, c.body])).toEqual([
      ['pr-author', PLANTED],
      ['github-actions[bot]', `${MARKER}\nsecond`]
    ])
    expect(routes()).not.toContain(`PATCH /repos/acme/infra/issues/comments/${planted.id}`)
    expect(routes()).toContain(`PATCH /repos/acme/infra/issues/comments/${first.id}`)
  })

  it('updates the comment the token wrote before, even after a planted one', async () => {
    const ours = server.seedComment('acme', 'infra', 9, `${MARKER}\nold`, 'github-actions[bot]')
    const planted = server.seedComment('acme', 'infra', 9, PLANTED, 'pr-author')
    const result = await upsertPullRequestComment(client(), params('new'))
    expect(result).toMatchObject({ action: 'updated', id: ours.id, warnings: [], ignored: [] })
    expect(ours.body).toBe(`${MARKER}\nnew`)
    expect(planted.body).toBe(PLANTED)
  })

  it('tells bots apart: an app token leaves github-actions[bot]’s comment alone', async () => {
    const actions = server.seedComment(
      'acme',
      'infra',
      9,
      `${MARKER}\nby actions`,
      'github-actions[bot]'
    )
    const result = await upsertPullRequestComment(client(APP_TOKEN), params('by the app'))
    expect(result.action).toBe('created')
    expect(actions.body).toBe(`${MARKER}\nby actions`)
    expect(server.comments('acme', 'infra', 9)[1].user.login).toBe('acme-deployer[bot]')
    const again = await upsertPullRequestComment(client(APP_TOKEN), params('by the app, again'))
    expect(again).toMatchObject({ action: 'updated', id: result.id })
  })

  it('with a personal access token, updates the comment of that user', async () => {
    const mine = server.seedComment('acme', 'infra', 9, `${MARKER}\nold`, 'deploy-operator')
    server.seedComment('acme', 'infra', 9, PLANTED, 'pr-author')
    server.failOn({ path: '/graphql', status: 502 })
    const result = await upsertPullRequestComment(client(PAT), params('new'))
    expect(result).toMatchObject({ action: 'updated', id: mine.id })
  })

  it('edits nothing when the identity cannot be learned: creates a new comment, with a warning', async () => {
    const ours = server.seedComment('acme', 'infra', 9, `${MARKER}\nold`, 'github-actions[bot]')
    server.failOn({ path: '/graphql', status: 403 })
    const result = await upsertPullRequestComment(client(), params('new'))
    expect(result.action).toBe('created')
    expect(result.warnings).toHaveLength(1)
    expect(result.warnings[0]).toMatch(
      /^pr-comment: could not learn who the token is \(GraphQL viewer: HTTP 403: .*; GET \/user: HTTP 403: Resource not accessible by integration\), so no existing comment was edited/
    )
    expect(ours.body).toBe(`${MARKER}\nold`)
    expect(routes().filter(r => r.startsWith('PATCH'))).toEqual([])
  })

  it('asks who the token is only when some comment carries the marker', async () => {
    server.seedComment('acme', 'infra', 9, 'unrelated')
    await upsertPullRequestComment(client(), params('x'))
    expect(routes()).toEqual([
      'GET /repos/acme/infra/issues/9/comments',
      'POST /repos/acme/infra/issues/9/comments'
    ])
  })

  it('writes nothing when the identity lookup gets no answer', async () => {
    server.seedComment('acme', 'infra', 9, `${MARKER}\nold`, 'github-actions[bot]')
    server.stallOn({ path: '/graphql' })
    const error = (await upsertPullRequestComment(client(GITHUB_TOKEN, 200), params('x')).catch(
      (e: unknown) => e
    )) as PullRequestCommentError
    expect(error).toBeInstanceOf(PullRequestCommentError)
    expect(error.message).toMatch(
      /^pr-comment: could not learn who the token is \(GraphQL viewer: no answer within/
    )
    expect(routes().filter(r => r.startsWith('POST /repos') || r.startsWith('PATCH'))).toEqual([])
  })
})
