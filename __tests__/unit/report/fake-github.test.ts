import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeGitHub, type FakeGitHub } from '../../../test-support/github-api/server.js'

describe('fake GitHub API server', () => {
  let server: FakeGitHub
  beforeEach(async () => {
    server = await startFakeGitHub()
  })
  afterEach(async () => {
    await server.stop()
  })
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: 'token t', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    return {
      status: res.status,
      link: res.headers.get('link'),
      json: (await res.json()) as Record<string, unknown>
    }
  }

  it('listens on 127.0.0.1 and records every request', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    await call('POST', '/repos/o/r/issues/1/comments?x=1', { body: 'hi' })
    expect(server.requests).toEqual([
      {
        method: 'POST',
        path: '/repos/o/r/issues/1/comments',
        query: { x: '1' },
        body: { body: 'hi' },
        authorization: 'token t'
      }
    ])
  })

  it('paginates comments with Link headers', async () => {
    for (let i = 0; i < 5; i++) server.seedComment('o', 'r', 1, `c${i}`)
    const page1 = await call('GET', '/repos/o/r/issues/1/comments?per_page=2')
    expect(page1.link).toBe(
      `<${server.url}/repos/o/r/issues/1/comments?per_page=2&page=2>; rel="next", <${server.url}/repos/o/r/issues/1/comments?per_page=2&page=3>; rel="last"`
    )
    const page3 = await call('GET', '/repos/o/r/issues/1/comments?per_page=2&page=3')
    expect((page3.json as unknown as Array<{ body: string }>).map(c => c.body)).toEqual(['c4'])
  })

  it('answers like GitHub to unknown routes, bad bodies and deployments that would need checks', async () => {
    expect((await call('GET', '/nope')).status).toBe(404)
    expect((await call('PATCH', '/repos/o/r/issues/comments/1', { body: 'x' })).status).toBe(404)
    expect(
      (await call('POST', '/repos/o/r/issues/1/comments', { body: 'x'.repeat(65_537) })).status
    ).toBe(422)
    expect((await call('POST', '/repos/o/r/deployments', { ref: 'main' })).status).toBe(409)
    expect(
      (await call('POST', '/repos/o/r/deployments/999/statuses', { state: 'success' })).status
    ).toBe(404)
  })

  it('fails a route on demand with GitHub’s error body, a given number of times', async () => {
    server.failOn({ method: 'POST', path: /\/deployments$/, status: 403, times: 1 })
    const denied = await call('POST', '/repos/o/r/deployments', { ref: 'x', required_contexts: [] })
    expect(denied.status).toBe(403)
    expect(denied.json).toMatchObject({
      message: 'Resource not accessible by integration',
      status: '403'
    })
    expect(
      (await call('POST', '/repos/o/r/deployments', { ref: 'x', required_contexts: [] })).status
    ).toBe(201)
    server.failOn({ path: '/repos/o/r/issues/1/comments', status: 401 })
    expect((await call('GET', '/repos/o/r/issues/1/comments')).status).toBe(401)
    server.clearFailures()
    expect((await call('GET', '/repos/o/r/issues/1/comments')).status).toBe(200)
  })
})
