/**
 * Redaction of known secret values from what goes to the GitHub API, which
 * the runner does not mask: the client redacts the free text of every request
 * (comment body, deployment descriptions), and report data is redacted before
 * it is rendered, so escaping or shortening cannot hide a secret from it.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  forgetSecrets,
  MIN_SECRET_CHARS,
  redactDeep,
  redactSecrets,
  rememberSecret
} from '../../../src/secret-registry.js'
import { commentMarker, renderComment } from '../../../src/report/comment.js'
import { createDeploymentTracker, describeFinish } from '../../../src/report/deployments.js'
import { createGitHubClient } from '../../../src/report/github-client.js'
import { startFakeGitHub, type FakeGitHub } from '../../../test-support/github-api/server.js'
import { context, report } from './support.js'

const TOKEN = 'ghs_redactMe0123456789abcdefghijklmnop'
/** Markdown and HTML characters in it: rendering escapes them. */
const PASSPHRASE = 'p<a>ss*w_rd|&`x`'
const KEY_LINE = 'QyNTUxOQAAACDc2VjcmV0LWtleS1saW5lLXR3by1vZi10aGUta2V5LW1hdGVyaWFsAAAA'

beforeEach(() => {
  forgetSecrets()
  for (const secret of [TOKEN, PASSPHRASE, KEY_LINE]) rememberSecret(secret)
})
afterEach(() => forgetSecrets())

describe('redactSecrets', () => {
  it('replaces every known value, longest first', () => {
    rememberSecret(`${KEY_LINE}\nnext`)
    expect(redactSecrets(`a ${TOKEN} b ${TOKEN}`)).toBe('a *** b ***')
    expect(redactSecrets(`x ${KEY_LINE}\nnext y`)).toBe('x *** y')
  })

  it(`ignores values under ${MIN_SECRET_CHARS} characters, which cannot be told from text`, () => {
    rememberSecret('abc')
    expect(redactSecrets('abcdef')).toBe('abcdef')
  })

  it('redactDeep redacts the strings of plain objects and arrays, as a copy', () => {
    const data = { a: [`x ${TOKEN}`, 3, null], b: { c: PASSPHRASE }, d: true }
    expect(redactDeep(data)).toEqual({ a: ['x ***', 3, null], b: { c: '***' }, d: true })
    expect(data.a[0]).toBe(`x ${TOKEN}`)
  })
})

describe('at the API boundary', () => {
  let server: FakeGitHub
  beforeEach(async () => {
    server = await startFakeGitHub()
  })
  afterEach(async () => {
    await server.stop()
  })

  it('the client sends no known secret in a comment body or a deployment description', async () => {
    const octokit = createGitHubClient('tok', { baseUrl: server.url })
    await octokit.rest.issues.createComment({
      owner: 'acme',
      repo: 'infra',
      issue_number: 1,
      body: `host said: ${PASSPHRASE} ${KEY_LINE} ${TOKEN}`
    })
    const tracker = createDeploymentTracker(octokit, {
      owner: 'acme',
      repo: 'infra',
      ref: 'abc',
      runUrl: null,
      warn: () => undefined
    })
    await tracker.start('web')
    await tracker.finish('web', 'failed', `activation failed: ${TOKEN}`)
    expect(server.comments('acme', 'infra', 1)[0].body).toBe('host said: *** *** ***')
    const sent = JSON.stringify(server.requests.map(r => r.body))
    for (const secret of [TOKEN, PASSPHRASE, KEY_LINE]) expect(sent).not.toContain(secret)
    expect(server.deployments[0].statuses[1].description).toBe(
      'deploy-rs: failed: activation failed: ***'
    )
  })

  it('a deployment description never keeps the start of a secret that the 140-character cap cut', () => {
    const error = `${'x'.repeat(110)} ${TOKEN}`
    const description = describeFinish('failed', error)
    expect(description.length).toBeLessThanOrEqual(140)
    expect(description).not.toContain(TOKEN.slice(0, 8))
  })
})

describe('before rendering', () => {
  it('a log line echoing the passphrase, a key line or the token shows *** in the PR comment, never an escaped form', () => {
    const nodes = [
      report({ node: 'web', status: 'failed', error: `failed: ${PASSPHRASE}` }, [
        `+ echo ${PASSPHRASE}`,
        `key: ${KEY_LINE}`,
        `GITHUB_TOKEN=${TOKEN}`
      ])
    ]
    const body = renderComment(redactDeep(context()), redactDeep(nodes), {
      marker: commentMarker('w', 'j')
    })
    expect(body).toContain('+ echo ***')
    expect(body).toContain('key: ***')
    expect(body).toContain('GITHUB_TOKEN=***')
    // Escaped as rendering would: HTML entities, Markdown backslashes.
    for (const form of ['p&lt;a&gt;ss', 'ss\\*w\\_rd', TOKEN.slice(0, 12), KEY_LINE.slice(0, 12)])
      expect(body).not.toContain(form)
  })
})
