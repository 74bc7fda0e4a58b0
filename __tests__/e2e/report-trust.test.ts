/**
 * What the report sends to GitHub can be trusted, through the bundled action
 * on the sandbox fleet and a fake GitHub API:
 * - the PR comment that is updated is the one the token wrote; a comment the
 *   PR author planted with the exact marker is never edited;
 * - a host that echoes the passphrase, a key line (of a key pasted as is, or
 *   onto one line) or the token gets `***` in the PR comment and in the
 *   deployment records, which the runner does not mask.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeKey, startFleet, type Fleet, type KeyPair } from '../../test-support/fleet/index.js'
import {
  startFakeGitHub,
  type FakeGitHub,
  type RecordedRequest
} from '../../test-support/github-api/server.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import {
  fleetInputs,
  runOnFleet,
  statuses,
  type FleetRunOptions
} from '../../test-support/action/fleet-run.js'

const OWNER = 'octo'
const REPO = 'homelab'
const PASSPHRASE = 'leaky-passphrase 4 the key'

let fleet: Fleet
let api: FakeGitHub
let encrypted: KeyPair
let plain: KeyPair
/** The secrets a host echoes, with a name for the failure message. */
let echoed: { name: string; value: string }[]

/** The base64 lines of a private key. */
function keyLines(keyText: string): string[] {
  return keyText
    .split('\n')
    .map(line => line.trim())
    .filter(line => /^[A-Za-z0-9+/=]{16,}$/.test(line))
}

beforeAll(async () => {
  ;[encrypted, plain] = await Promise.all([
    makeKey({ type: 'ed25519', passphrase: PASSPHRASE }),
    makeKey({ type: 'ed25519' })
  ])
  // The fleet's token input is fixed; only the keys are this file's own.
  const token = 'ghs_e2eTokenThatMustNeverBePrinted0123'
  echoed = [
    { name: 'passphrase', value: PASSPHRASE },
    { name: 'encrypted key line', value: keyLines(encrypted.privateKeyText)[1] },
    { name: 'one-line pasted key line', value: keyLines(plain.privateKeyText)[1] },
    { name: 'token', value: token }
  ]
  ;[api, fleet] = await Promise.all([
    startFakeGitHub(),
    startFleet({
      nodes: [
        { name: 'web' },
        {
          name: 'leaky',
          // Dry run: the pre-switch check fails; real activation fails and, without
          // autoRollback, the host stays on the failed generation: `failed`.
          behaviour: 'dry-pre-switch-fails',
          autoRollback: false,
          extraLines: [
            `+ echo ${PASSPHRASE}`,
            ...echoed.slice(1, 3).map(({ value }) => `key: ${value}`),
            // An `error:` line becomes part of the node's error, so of the deployment description.
            `error: token ${token} rejected`
          ]
        }
      ],
      authorizedKeys: [encrypted.publicKey, plain.publicKey]
    })
  ])
  expect(fleetInputs(fleet)['github-token']).toBe(token)
}, 60_000)

afterAll(async () => {
  await api?.stop()
  await fleet?.stop()
  await removeRunDirs()
})

/** Both keys in one secret: the encrypted one as is, the plain one pasted onto one line. */
function keyInputs(): Record<string, string> {
  return {
    'ssh-private-key': `${encrypted.privateKeyText}${plain.privateKeyText.trim().replace(/\n/g, ' ')}\n`,
    'ssh-key-passphrase': PASSPHRASE,
    'skip-checks': 'true'
  }
}

async function runWithApi(
  options: FleetRunOptions
): Promise<{ run: ActionRun; requests: RecordedRequest[] }> {
  const before = api.requests.length
  const run = await runOnFleet(fleet, {
    ...options,
    inputs: { ...keyInputs(), ...options.inputs },
    env: { GITHUB_API_URL: api.url, ...options.env }
  })
  return { run, requests: api.requests.slice(before) }
}

function pullRequest(number: number): Pick<FleetRunOptions, 'eventName' | 'eventPayload'> {
  return {
    eventName: 'pull_request',
    eventPayload: {
      pull_request: {
        number,
        head: {
          sha: 'feedfacefeedfacefeedfacefeedfacefeedface',
          repo: { full_name: `${OWNER}/${REPO}` }
        }
      }
    }
  }
}

/** Every 8-character piece of a secret found in `text` (a cut secret leaks its start). */
function leaks(text: string): string[] {
  const found: string[] = []
  for (const { name, value } of echoed) {
    for (let i = 0; i + 8 <= value.length; i++) {
      if (text.includes(value.slice(i, i + 8))) {
        found.push(`${name} (from character ${i})`)
        break
      }
    }
  }
  return found
}

const routes = (requests: RecordedRequest[]): string[] => requests.map(r => `${r.method} ${r.path}`)

describe('PR comment authorship', () => {
  it('never edits a comment the PR author planted with the exact marker; updates its own', async () => {
    // A first run on another pull request shows the marker this job's comment carries.
    const probe = await runWithApi({
      inputs: { targets: 'web', 'pr-comment': 'true' },
      ...pullRequest(30)
    })
    expect(probe.run.main.code).toBe(0)
    const marker = api.comments(OWNER, REPO, 30)[0].body.split('\n')[0]
    expect(marker).toMatch(/^<!-- deploy-rs-action:.* -->$/)

    const forged = `${marker}\n## deploy-rs dry run\n\n✅ every node passed`
    const planted = api.seedComment(OWNER, REPO, 31, forged, 'pr-author')

    const first = await runWithApi({
      inputs: { targets: 'web', 'pr-comment': 'true' },
      ...pullRequest(31)
    })
    expect(first.run.main.code).toBe(0)
    expect(routes(first.requests)).toEqual([
      `GET /repos/${OWNER}/${REPO}/issues/31/comments`,
      'POST /graphql',
      `POST /repos/${OWNER}/${REPO}/issues/31/comments`
    ])
    expect(first.run.main.stdout).toContain(
      `pr-comment: comment ${planted.id} by pr-author carries this job's marker but was not written by this token; it was left alone.`
    )

    const second = await runWithApi({
      inputs: { targets: 'web', 'pr-comment': 'true' },
      ...pullRequest(31)
    })
    expect(second.run.main.code).toBe(0)
    const comments = api.comments(OWNER, REPO, 31)
    expect(comments).toHaveLength(2)
    expect(comments[0]).toMatchObject({
      id: planted.id,
      body: forged,
      user: { login: 'pr-author' }
    })
    expect(comments[1].user.login).toBe('github-actions[bot]')
    expect(routes(second.requests)).toEqual([
      `GET /repos/${OWNER}/${REPO}/issues/31/comments`,
      'POST /graphql',
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${comments[1].id}`
    ])
  }, 120_000)
})

describe('secrets a host echoes', () => {
  it('show as *** in the PR comment', async () => {
    const { run, requests } = await runWithApi({
      inputs: { targets: 'web, leaky', 'pr-comment': 'true' },
      ...pullRequest(32)
    })
    expect(statuses(run)).toEqual({ web: 'dry-run', leaky: 'failed' })
    const [comment] = api.comments(OWNER, REPO, 32)
    // The host's lines are in the comment's log tail, the secrets replaced.
    expect(comment.body).toContain('+ echo ***')
    expect(comment.body).toContain('key: ***')
    expect(comment.body).toContain('error: token *** rejected')
    expect(leaks(comment.body)).toEqual([])
    expect(leaks(requests.map(r => JSON.stringify(r.body)).join('\n'))).toEqual([])
    // Each key line was announced to the runner, the one rebuilt from the one-line paste too.
    const masks = run.commands.filter(c => c.command === 'add-mask').map(c => c.value)
    for (const { name, value } of echoed)
      expect({ name, masked: masks.includes(value) }).toEqual({ name, masked: true })
  }, 60_000)

  it('show as *** in the deployment records', async () => {
    const before = api.deployments.length
    const { run, requests } = await runWithApi({
      inputs: { targets: 'leaky', deployments: 'true' },
      eventName: 'push'
    })
    expect(statuses(run)).toEqual({ leaky: 'failed' })
    const [deployment] = api.deployments.slice(before)
    expect(deployment.statuses.map(s => s.state)).toEqual(['in_progress', 'failure'])
    const description = String(deployment.statuses[1].description)
    expect(description).toMatch(/^deploy-rs: failed: /)
    expect(leaks(description)).toEqual([])
    expect(leaks(requests.map(r => JSON.stringify(r.body)).join('\n'))).toEqual([])
  }, 60_000)
})
