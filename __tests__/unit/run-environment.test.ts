import { beforeEach, describe, expect, it, jest } from '@jest/globals'

/** A stand-in for @actions/github's context, changed per test. */
const context: Record<string, unknown> = {}
jest.unstable_mockModule('@actions/github', () => ({ context }))

const { readRunEnvironment, resolveDryRun, wantsPrComment } =
  await import('../../src/run-environment.js')
type RunEnvironment = ReturnType<typeof readRunEnvironment>

function setContext(overrides: Record<string, unknown> = {}): void {
  for (const key of Object.keys(context)) delete context[key]
  Object.assign(context, {
    eventName: 'push',
    sha: 'abc123',
    actor: 'octocat',
    serverUrl: 'https://github.com',
    runId: 42,
    workflow: 'Deploy',
    job: 'deploy',
    payload: {},
    ...overrides
  })
}

beforeEach(() => setContext())

describe('resolveDryRun', () => {
  it.each([
    ['pull_request', true],
    ['pull_request_target', true],
    ['merge_group', true],
    ['push', false],
    ['workflow_dispatch', false],
    ['schedule', false],
    ['release', false],
    ['', false],
    ['Pull_Request', false]
  ])('auto on %j is %s', (event, expected) => {
    expect(resolveDryRun('auto', event)).toBe(expected)
  })

  it.each(['pull_request', 'pull_request_target', 'merge_group', 'push', 'workflow_dispatch'])(
    'true and false win over the event (%s)',
    event => {
      expect(resolveDryRun(true, event)).toBe(true)
      expect(resolveDryRun(false, event)).toBe(false)
    }
  )
})

describe('readRunEnvironment', () => {
  it('reads a push run', () => {
    const env = readRunEnvironment({
      GITHUB_REPOSITORY: 'acme/infra',
      RUNNER_TEMP: '/runner/_temp'
    })
    expect(env).toEqual({
      eventName: 'push',
      sha: 'abc123',
      actor: 'octocat',
      owner: 'acme',
      repo: 'infra',
      repositoryUrl: 'https://github.com/acme/infra',
      runUrl: 'https://github.com/acme/infra/actions/runs/42',
      pullRequestNumber: null,
      fromFork: false,
      workflow: 'Deploy',
      job: 'deploy',
      runnerTemp: '/runner/_temp'
    })
  })

  it('a pull request: its number and head commit; a fork is recognised', () => {
    setContext({
      eventName: 'pull_request',
      payload: {
        pull_request: { number: 7, head: { sha: 'headsha', repo: { full_name: 'someone/infra' } } }
      }
    })
    const env = readRunEnvironment({ GITHUB_REPOSITORY: 'acme/infra' })
    expect(env.pullRequestNumber).toBe(7)
    expect(env.sha).toBe('headsha')
    expect(env.fromFork).toBe(true)
  })

  it('a pull request from the same repository is not a fork', () => {
    setContext({
      eventName: 'pull_request',
      payload: {
        pull_request: { number: 8, head: { sha: 'h', repo: { full_name: 'acme/infra' } } }
      }
    })
    expect(readRunEnvironment({ GITHUB_REPOSITORY: 'acme/infra' }).fromFork).toBe(false)
  })

  it('outside GitHub: no repository links', () => {
    setContext({ serverUrl: '', runId: 0 })
    const env = readRunEnvironment({})
    expect(env.owner).toBeNull()
    expect(env.repositoryUrl).toBeNull()
    expect(env.runUrl).toBeNull()
    expect(env.runnerTemp).toBeUndefined()
  })
})

describe('wantsPrComment', () => {
  const env = (eventName: string, pullRequestNumber: number | null): RunEnvironment => ({
    eventName,
    sha: '',
    actor: '',
    owner: 'acme',
    repo: 'infra',
    repositoryUrl: null,
    runUrl: null,
    pullRequestNumber,
    fromFork: false,
    workflow: '',
    job: '',
    runnerTemp: undefined
  })

  it('auto comments on pull request events only', () => {
    expect(wantsPrComment('auto', env('pull_request', 1))).toBe(true)
    expect(wantsPrComment('auto', env('pull_request_target', 1))).toBe(true)
    expect(wantsPrComment('auto', env('issue_comment', 1))).toBe(false)
  })

  it('true/false decide wherever there is a pull request; never without one', () => {
    expect(wantsPrComment(true, env('workflow_dispatch', 3))).toBe(true)
    expect(wantsPrComment(false, env('pull_request', 3))).toBe(false)
    expect(wantsPrComment(true, env('push', null))).toBe(false)
    expect(wantsPrComment('auto', env('pull_request', null))).toBe(false)
  })
})
