/**
 * The report end to end: the bundled action against the sandbox fleet, with
 * GITHUB_API_URL pointing at a fake GitHub API, checking the requests it
 * really makes (PR comment upsert, deployments), the workflow commands it
 * prints (annotations, log groups) and the job summary as HTML.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { marked } from 'marked'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
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
  visibleText,
  type FleetRunOptions
} from '../../test-support/action/fleet-run.js'

const OWNER = 'octo'
const REPO = 'homelab'
const SHA = '0123456789abcdef0123456789abcdef01234567'
const RUN_URL = `https://github.com/${OWNER}/${REPO}/actions/runs/42`
const HTML_NODE = '<b>x|y</b>'
/** Lines a host prints that the runner would take for workflow commands if they started a line. */
const INJECTED = [
  '::set-output name=x::pwned',
  // `~` never starts a base64 key line, so the action's own masks cannot look like this one.
  '::add-mask::~x',
  '::stop-commands::tok',
  '##[error]forged annotation'
]
/** A progress line whose carriage return would start a new line for the runner. */
const CR_INJECTED = 'copying 50%\r::warning::forged by a carriage return'

let fleet: Fleet
let api: FakeGitHub
let token: string

beforeAll(async () => {
  api = await startFakeGitHub()
  fleet = await startFleet({
    nodes: [
      { name: 'web', changes: { restart: ['nginx.service'], start: ['new.service'] } },
      { name: 'db', changes: { stop: ['postgresql.service'], restartSystemd: true } },
      { name: 'cache', changes: { reload: ['dbus.service'] } },
      // autoRollback = false: the host stays on the failed generation, so the node is `failed`
      { name: 'broken', behaviour: 'activation-fails', autoRollback: false },
      { name: 'chatty', extraLines: INJECTED },
      { name: 'progress', extraLines: [CR_INJECTED] },
      { name: HTML_NODE, changes: { restart: ['<i>odd</i>.service'] } }
    ]
  })
  token = fleetInputs(fleet)['github-token']
}, 60_000)

afterAll(async () => {
  await api?.stop()
  await fleet?.stop()
  await removeRunDirs()
})

/** A run against the fake API, with the requests this run made. */
async function runWithApi(
  options: FleetRunOptions
): Promise<{ run: ActionRun; requests: RecordedRequest[] }> {
  const before = api.requests.length
  const run = await runOnFleet(fleet, {
    ...options,
    env: { GITHUB_API_URL: api.url, ...options.env }
  })
  return { run, requests: api.requests.slice(before) }
}

function pullRequest(number: number): Pick<FleetRunOptions, 'eventName' | 'eventPayload'> {
  return {
    eventName: 'pull_request',
    eventPayload: {
      pull_request: { number, head: { sha: SHA, repo: { full_name: `${OWNER}/${REPO}` } } }
    }
  }
}

/** The `::warning::` lines of a run, their data unescaped. */
function warnings(run: ActionRun): string[] {
  return run.commands
    .filter(c => c.command === 'warning')
    .map(c => c.value.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%'))
}

/** Lines as the runner reads them: CR, LF and CRLF all end a line. */
function runnerLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/)
}

/** The markers of the inert blocks the action prints foreign text in (src/untrusted-text.ts). */
const BLOCK_MARKER = /^::(stop-commands::[0-9a-f]{32}|[0-9a-f]{32}::)$/

describe('pull request comment', () => {
  const dryRunTargets = 'web, db, cache'

  it('creates one comment, updates it on the next run, and gives another job its own', async () => {
    const first = await runWithApi({
      inputs: { targets: dryRunTargets, 'pr-comment': 'auto' },
      ...pullRequest(5)
    })
    expect(first.run.main.code).toBe(0)
    expect(statuses(first.run)).toEqual({ web: 'dry-run', db: 'dry-run', cache: 'dry-run' })
    let comments = api.comments(OWNER, REPO, 5)
    expect(comments).toHaveLength(1)
    const body = comments[0].body
    expect(body).toMatch(/^<!-- deploy-rs-action:[^\n]* -->\n/)
    expect(body.length).toBeLessThan(65_536)
    // The dry-run unit changes of every node.
    for (const unit of ['nginx.service', 'new.service', 'postgresql.service', 'dbus.service'])
      expect(body).toContain(unit)
    expect(body).toContain('restart systemd itself')
    expect(body).toContain('### What would change (3 of 3 nodes)')
    expect(first.run.main.stdout).toContain(`pr-comment: created ${comments[0].html_url}`)
    // Listed, then created; every request with the token, and no deployment on a dry run.
    expect(first.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${OWNER}/${REPO}/issues/5/comments`,
      `POST /repos/${OWNER}/${REPO}/issues/5/comments`
    ])
    for (const request of first.requests) expect(request.authorization).toBe(`token ${token}`)

    // Second run of the same job, after a node changed: the same comment, updated.
    await fleet.setBehaviour('cache', 'dry-pre-switch-fails')
    let second: Awaited<ReturnType<typeof runWithApi>>
    try {
      second = await runWithApi({
        inputs: { targets: dryRunTargets, 'pr-comment': 'auto' },
        ...pullRequest(5)
      })
    } finally {
      await fleet.setBehaviour('cache', 'ok')
    }
    expect(second.run.main.code).toBe(1)
    expect(statuses(second.run)).toEqual({ web: 'dry-run', db: 'dry-run', cache: 'failed' })
    comments = api.comments(OWNER, REPO, 5)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).not.toBe(body)
    expect(comments[0].body).toContain('Pre-switch checks failed')
    expect(comments[0].body.split('\n')[0]).toBe(body.split('\n')[0])
    expect(second.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${OWNER}/${REPO}/issues/5/comments`,
      // Who the token is: only its own comment may be updated.
      'POST /graphql',
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${comments[0].id}`
    ])
    expect(second.run.main.stdout).toContain('pr-comment: updated')

    // Another job of the workflow: a comment of its own; the first one untouched.
    const updatedBody = comments[0].body
    const other = await runWithApi({
      inputs: { targets: dryRunTargets, 'pr-comment': 'auto' },
      ...pullRequest(5),
      env: { GITHUB_JOB: 'dry-run-again' }
    })
    expect(other.run.main.code).toBe(0)
    comments = api.comments(OWNER, REPO, 5)
    expect(comments).toHaveLength(2)
    expect(comments[0].body).toBe(updatedBody)
    expect(comments[1].body.split('\n')[0]).not.toBe(comments[0].body.split('\n')[0])
    expect(comments[1].body.split('\n')[0]).toContain('dry-run-again')
    for (const request of [...second.requests, ...other.requests])
      expect(request.authorization).toBe(`token ${token}`)
  }, 120_000)

  it('warns with the permission it needs when the token may not comment, and the step result stays', async () => {
    api.failOn({ method: 'POST', path: /\/issues\/\d+\/comments$/, status: 403 })
    let run: ActionRun
    try {
      ;({ run } = await runWithApi({
        inputs: { targets: 'web, db', 'pr-comment': 'auto' },
        ...pullRequest(6)
      }))
    } finally {
      api.clearFailures()
    }
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'dry-run', db: 'dry-run' })
    expect(JSON.parse(run.outputs.failed)).toEqual([])
    expect(api.comments(OWNER, REPO, 6)).toEqual([])
    const warning = warnings(run).find(w => w.startsWith('pr-comment:'))
    expect(warning).toMatch(/HTTP 403/)
    expect(warning).toContain('`pull-requests: write`')
    expect(warning).toMatch(/forks/)
    expect(run.commands.filter(c => c.command === 'error')).toEqual([])
    expect(visibleText(run)).not.toContain(token)
  }, 60_000)
})

describe('deployments', () => {
  it('records one deployment per node on a push deploy, with its final state', async () => {
    const before = api.deployments.length
    const { run, requests } = await runWithApi({
      inputs: { targets: 'web, broken, cache', deployments: 'true' },
      eventName: 'push'
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ web: 'deployed', broken: 'failed', cache: 'deployed' })

    const recorded = api.deployments.slice(before)
    expect(recorded.map(d => d.body.environment).sort()).toEqual(['broken', 'cache', 'web'])
    for (const deployment of recorded) {
      const node = String(deployment.body.environment)
      expect(deployment.body).toMatchObject({
        ref: SHA,
        environment: node,
        required_contexts: [],
        auto_merge: false
      })
      const expected = node === 'broken' ? 'failure' : 'success'
      expect(deployment.statuses.map(s => s.state)).toEqual(['in_progress', expected])
      for (const status of deployment.statuses)
        expect(status).toMatchObject({ log_url: RUN_URL, environment: node })
      // The deployment is created before its statuses are posted.
      const created = requests.findIndex(
        r =>
          r.method === 'POST' &&
          r.path.endsWith('/deployments') &&
          (r.body as { environment?: string }).environment === node
      )
      const firstStatus = requests.findIndex(
        r => r.path === `/repos/${OWNER}/${REPO}/deployments/${deployment.id}/statuses`
      )
      expect(created).toBeGreaterThanOrEqual(0)
      expect(firstStatus).toBeGreaterThan(created)
    }
    expect(
      String(recorded.find(d => d.body.environment === 'broken')?.statuses[1].description)
    ).toMatch(/^deploy-rs: failed/)
    for (const request of requests) expect(request.authorization).toBe(`token ${token}`)
    expect(warnings(run)).toEqual([])
    // No comment outside pull requests.
    expect(requests.some(r => r.path.includes('/comments'))).toBe(false)
  }, 90_000)

  it('records nothing on a dry run', async () => {
    const { run, requests } = await runWithApi({
      inputs: { targets: 'web, cache', deployments: 'true', 'dry-run': 'true' },
      eventName: 'push'
    })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'dry-run', cache: 'dry-run' })
    expect(requests.filter(r => r.path.includes('/deployments'))).toEqual([])
  }, 60_000)

  it('warns once with the permission it needs on 403, and the step result stays', async () => {
    api.failOn({ method: 'POST', path: `/repos/${OWNER}/${REPO}/deployments`, status: 403 })
    let outcome: Awaited<ReturnType<typeof runWithApi>>
    try {
      outcome = await runWithApi({
        inputs: { targets: 'web, cache', deployments: 'true' },
        eventName: 'push'
      })
    } finally {
      api.clearFailures()
    }
    const { run, requests } = outcome
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'deployed', cache: 'deployed' })
    const deploymentWarnings = warnings(run).filter(w => w.startsWith('deployments:'))
    expect(deploymentWarnings).toHaveLength(1)
    expect(deploymentWarnings[0]).toMatch(/HTTP 403/)
    expect(deploymentWarnings[0]).toContain('`deployments: write`')
    expect(requests.some(r => r.path.endsWith('/statuses'))).toBe(false)
    expect(run.commands.filter(c => c.command === 'error')).toEqual([])
  }, 60_000)
})

describe('job log', () => {
  it('annotates each failed node and prints every log in its own group, failed first, with no line taken for a command', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'web, chatty, broken' },
      eventName: 'push'
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ web: 'deployed', chatty: 'deployed', broken: 'failed' })

    // One error annotation per failed node, titled with the node.
    const annotations = run.commands.filter(
      c => c.command === 'error' && c.properties.startsWith('title=')
    )
    expect(annotations.map(a => a.properties)).toEqual(['title=broken'])
    expect(annotations[0].value).toMatch(/^failed at activate: /)
    expect(run.main.stdout).toMatch(/^::error title=broken::failed at activate: /m)

    // The groups at the end: failed nodes first, then the others in target order.
    const lines = run.main.stdout.split('\n')
    const groups = lines.flatMap((line, i) => (line.startsWith('::group::') ? [i] : []))
    expect(groups.map(i => lines[i])).toEqual([
      '::group::deploy-rs log: broken (❌ failed)',
      '::group::deploy-rs log: web (✅ deployed)',
      '::group::deploy-rs log: chatty (✅ deployed)'
    ])
    const bodies = groups.map(start => {
      const end = lines.indexOf('::endgroup::', start)
      expect(end).toBeGreaterThan(start)
      return lines.slice(start + 1, end).filter(line => !BLOCK_MARKER.test(line))
    })
    for (const body of bodies) {
      expect(body.length).toBeGreaterThan(3)
      for (const line of body) expect(line.startsWith('│ ')).toBe(true)
    }
    // The host really printed the injected lines, and the log shows them as text.
    for (const injected of INJECTED) {
      expect(bodies[2]).toContain(`│ ${injected}`)
      expect(lines).toContain(`chatty | ${injected}`)
    }

    // No line of the job log, as the runner splits it, is a command the action did not mean.
    const all = [...runnerLines(run.main.stdout), ...runnerLines(run.main.stderr)]
    for (const injected of INJECTED)
      expect(all.filter(line => line.startsWith(injected))).toEqual([])
    const commands = all.filter(
      line => (line.startsWith('::') || line.startsWith('##[')) && !BLOCK_MARKER.test(line)
    )
    for (const line of commands)
      expect(line).toMatch(/^::(group|endgroup|error|warning|notice|debug|add-mask)(\s[^:]*)?::/)
    expect(run.commands.map(c => c.command)).not.toContain('set-output')
    expect(run.commands.filter(c => c.command === 'stop-commands').map(c => c.value)).not.toContain(
      'tok'
    )
    expect(run.commands.filter(c => c.command === 'add-mask').map(c => c.value)).not.toContain('~x')
  }, 90_000)
})

describe('job log: carriage returns', () => {
  // The runner reads lines with .NET's StreamReader.ReadLine, which ends a line at CR as well as LF.
  const forged = (text: string): string[] =>
    runnerLines(text).filter(line => line.startsWith('::warning::forged'))

  it('prints a carriage return of a node log as two prefixed lines in its group', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'progress' }, eventName: 'push' })
    expect(run.main.code).toBe(0)
    const groups = run.main.stdout.slice(
      run.main.stdout.indexOf('::group::deploy-rs log: progress')
    )
    expect(groups).toContain('│ copying 50%\n│ ::warning::forged by a carriage return\n')
    expect(forged(groups)).toEqual([])
  }, 60_000)

  // The runner ends lines at a bare CR too, so the live echo must prefix every CR-separated piece.
  it('keeps a carriage return of the live echo from starting a runner line', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'progress' }, eventName: 'push' })
    expect(run.main.code).toBe(0)
    expect(forged(run.main.stdout)).toEqual([])
  }, 60_000)
})

describe('names with HTML and Markdown in them', () => {
  it('are escaped in the summary, and the table keeps one row per node', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { targets: `"${HTML_NODE}", web, broken` },
      eventName: 'push'
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ [HTML_NODE]: 'deployed', web: 'deployed', broken: 'failed' })
    expect(run.summary).not.toMatch(/<b>|<\/b>/)
    const html = marked.parse(run.summary, { gfm: true, async: false })
    expect(html).not.toMatch(/<b>|<\/b>/)
    const table = /<table>[\s\S]*?<\/table>/.exec(html)?.[0] ?? ''
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(row =>
      [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map(cell => cell[1])
    )
    expect(rows).toHaveLength(4)
    // Health: the default health check ran on the deployed nodes; Packages: their diffs.
    expect(rows[0]).toEqual([
      'Status',
      'Node',
      'Hostname',
      'Duration',
      'Stage',
      'Health',
      'Packages'
    ])
    for (const row of rows) expect(row).toHaveLength(7)
    expect(rows.map(row => row[1])).toEqual(['Node', '&lt;b&gt;x|y&lt;/b&gt;', 'web', 'broken'])
    // The job log names the node as it is in its group title (a workflow command's data, not Markdown).
    expect(run.main.stdout).toContain(`::group::deploy-rs log: ${HTML_NODE} (✅ deployed)`)
  }, 90_000)

  it('are escaped in the PR comment, with the unit names of a dry run', async () => {
    const { run } = await runWithApi({
      inputs: { targets: `"${HTML_NODE}"`, 'pr-comment': 'true' },
      ...pullRequest(7)
    })
    expect(run.main.code).toBe(0)
    const [comment] = api.comments(OWNER, REPO, 7)
    // `<i>` may stand raw inside a code span, where Markdown shows it as text.
    expect(comment.body).not.toMatch(/<b>/)
    const html = marked.parse(comment.body, { gfm: true, async: false })
    expect(html).not.toMatch(/<b>|<i>/)
    expect(html).toContain('<code>&lt;i&gt;odd&lt;/i&gt;.service</code>')
  }, 60_000)
})
