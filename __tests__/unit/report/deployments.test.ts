import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import {
  createDeploymentTracker,
  deploymentState,
  describeFinish
} from '../../../src/report/deployments.js'
import { startFakeGitHub, type FakeGitHub } from '../../../test-support/github-api/server.js'

const SHA = '3f9c2a17be04d5e6c8a9b0f1d2e3c4b5a6978812'
const RUN = 'https://github.com/acme/infra/actions/runs/42'

describe('deployment tracker (fake GitHub API)', () => {
  let server: FakeGitHub
  let warnings: string[]
  beforeEach(async () => {
    server = await startFakeGitHub()
    warnings = []
  })
  afterEach(async () => {
    await server.stop()
  })
  const tracker = (runUrl: string | null = RUN) =>
    createDeploymentTracker(getOctokit('tok', { baseUrl: server.url }), {
      owner: 'acme',
      repo: 'infra',
      ref: SHA,
      runUrl,
      warn: m => warnings.push(m)
    })

  it('creates a deployment per node, marks it in_progress, then success', async () => {
    const t = tracker()
    await t.start('web-1')
    await t.finish('web-1', 'deployed', null)
    expect(warnings).toEqual([])
    expect(server.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/infra/deployments',
      `POST /repos/acme/infra/deployments/${server.deployments[0].id}/statuses`,
      `POST /repos/acme/infra/deployments/${server.deployments[0].id}/statuses`
    ])
    expect(server.requests[0].body).toEqual({
      ref: SHA,
      environment: 'web-1',
      task: 'deploy',
      description: 'deploy-rs: deploy web-1',
      required_contexts: [],
      auto_merge: false,
      transient_environment: false
    })
    expect(server.deployments[0].statuses).toEqual([
      expect.objectContaining({
        state: 'in_progress',
        log_url: RUN,
        environment: 'web-1',
        description: 'deploy-rs: deploying web-1'
      }),
      expect.objectContaining({
        state: 'success',
        log_url: RUN,
        environment: 'web-1',
        description: 'deploy-rs: deployed'
      })
    ])
  })

  it('records a failure with a one-line description of at most 140 characters', async () => {
    const t = tracker(null)
    await Promise.all([t.start('web-1'), t.start('db-1')])
    await t.finish('db-1', 'rolled-back', `activation was not confirmed\n${'x'.repeat(300)}`)
    await t.finish('web-1', 'failed', 'boom')
    const byEnv = Object.fromEntries(server.deployments.map(d => [d.body.environment, d.statuses]))
    const last = (env: string) => byEnv[env][byEnv[env].length - 1]
    expect(last('web-1')).toMatchObject({
      state: 'failure',
      description: 'deploy-rs: failed: boom'
    })
    const description = last('db-1').description as string
    expect(last('db-1').state).toBe('failure')
    expect(description.length).toBeLessThanOrEqual(140)
    expect(description).toMatch(/^deploy-rs: rolled-back: activation was not confirmed x+…$/)
    expect(last('db-1')).not.toHaveProperty('log_url')
  })

  it('does nothing when finishing a node that was never started', async () => {
    await tracker().finish('mon-1', 'skipped', 'not started')
    expect(server.requests).toHaveLength(0)
  })

  it('turns 403 into one warning, never throws, and stops calling the API', async () => {
    server.failOn({ method: 'POST', path: '/repos/acme/infra/deployments', status: 403 })
    const t = tracker()
    await expect(t.start('web-1')).resolves.toBeUndefined()
    await expect(t.start('web-2')).resolves.toBeUndefined()
    await expect(t.finish('web-1', 'deployed', null)).resolves.toBeUndefined()
    expect(server.requests).toHaveLength(1)
    expect(warnings).toEqual([
      "deployments: could not create a deployment for web-1 (HTTP 403: Resource not accessible by integration). The token needs `deployments: write` (add it to the job's `permissions`), or set `deployments: false`. The deploy itself is not affected. No further deployment updates will be attempted in this run."
    ])
  })

  it('warns on a failed status update and carries on', async () => {
    server.failOn({ method: 'POST', path: /statuses$/, status: 500, times: 1 })
    const t = tracker()
    await t.start('web-1')
    await t.finish('web-1', 'deployed', null)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^deployments: could not set the deployment of web-1 to in_progress \(HTTP 500: Server Error\)\. GitHub refused the request\.$/
    )
    expect(server.deployments[0].statuses.map(s => s.state)).toEqual(['success'])
  })

  it('warns instead of throwing when the API is unreachable', async () => {
    const gone = await startFakeGitHub()
    await gone.stop()
    const t = createDeploymentTracker(getOctokit('tok', { baseUrl: gone.url }), {
      owner: 'acme',
      repo: 'infra',
      ref: SHA,
      runUrl: RUN,
      warn: m => warnings.push(m)
    })
    await t.start('web-1')
    await t.finish('web-1', 'failed', 'x')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/The GitHub API could not be reached\.$/)
  })
})

describe('deploymentState / describeFinish', () => {
  it('maps every status', () => {
    expect(deploymentState('deployed')).toBe('success')
    expect(deploymentState('failed')).toBe('failure')
    expect(deploymentState('rolled-back')).toBe('failure')
    expect(deploymentState('unreachable')).toBe('failure')
    expect(deploymentState('timed-out')).toBe('failure')
    expect(deploymentState('cancelled')).toBe('error')
    expect(deploymentState('skipped')).toBe('inactive')
  })

  it('describes in one line', () => {
    expect(describeFinish('timed-out', 'stopped\nafter 30 min')).toBe(
      'deploy-rs: timed-out: stopped after 30 min'
    )
    expect(describeFinish('cancelled', null)).toBe('deploy-rs: cancelled')
  })
})
