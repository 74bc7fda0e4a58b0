/**
 * Health checks and canary rollouts through the bundled action: real sshd
 * hosts whose systemctl / journalctl (test-support/fleet/fake-systemd.ts)
 * answer from what the deploy-rs stand-in's activation left on each host.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { runOnFleet, statuses } from '../../test-support/action/fleet-run.js'

let fleet: Fleet

const NGINX_JOURNAL = [
  'Dec 02 06:00:01 web nginx[811]: nginx: [emerg] unknown directive "lisen" in /etc/nginx/nginx.conf:12',
  '::error::forged by a journal line',
  '<img src=x onerror=alert(1)>',
  'Dec 02 06:00:01 web systemd[1]: Failed to start nginx.service.'
]

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'web' },
      { name: 'cache' },
      {
        name: 'proxy',
        systemd: { failedAfter: ['nginx.service'], journal: { 'nginx.service': NGINX_JOURNAL } }
      },
      { name: 'legacy', systemd: { failedBefore: ['backup.service'] } },
      { name: 'booting', systemd: { startingSeconds: 3 } },
      { name: 'stuck', systemd: { hang: true } },
      { name: 'darwin', systemd: { absent: true } },
      { name: 'broken', behaviour: 'activation-fails' }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

/** The new sessions each node's host accepted while `action` ran. */
async function sessionsDuring<T>(
  nodes: string[],
  action: () => Promise<T>
): Promise<{ value: T; sessions: Record<string, number> }> {
  const before = await Promise.all(nodes.map(node => fleet.sessions(node)))
  const value = await action()
  const after = await Promise.all(nodes.map(node => fleet.sessions(node)))
  return {
    value,
    sessions: Object.fromEntries(nodes.map((node, i) => [node, after[i]! - before[i]!]))
  }
}

describe('the systemd check', () => {
  it('a unit that fails after the switch makes its node unhealthy; the others are deployed', async () => {
    await fleet.setSystemd('proxy', {
      failedAfter: ['nginx.service'],
      journal: { 'nginx.service': NGINX_JOURNAL }
    })
    const run = await runOnFleet(fleet, { inputs: { targets: 'web, proxy, cache' } })
    expect(run.main.code).not.toBe(0)
    expect(statuses(run)).toEqual({ web: 'deployed', proxy: 'unhealthy', cache: 'deployed' })
    const proxy = run.results.find(r => r.node === 'proxy')
    expect(proxy).toMatchObject({
      stage: 'health',
      error: expect.stringContaining('nginx.service'),
      health: { ok: false, newlyFailed: ['nginx.service'], alreadyFailed: [] }
    })
    expect(run.results.find(r => r.node === 'web')).toMatchObject({
      health: { ok: true, newlyFailed: [], alreadyFailed: [] }
    })
    expect(JSON.parse(run.outputs.failed)).toEqual(['proxy'])
    // the journal lines, escaped; never a runner command
    expect(run.summary).toContain('unknown directive "lisen"')
    expect(run.summary).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(run.summary).not.toContain('<img src=x')
    expect(run.main.stdout.split('\n').some(line => line.startsWith('::error::forged'))).toBe(false)
    expect(run.summary).toMatch(/not rolled back/)
    // deploy-rs had confirmed: the host was not rolled back
    expect((await fleet.hostLog('proxy')).some(line => line.startsWith('rollback'))).toBe(false)
  }, 90_000)

  it('a unit that had failed before is reported, and the node is deployed', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'legacy' } })
    expect(run.main.code).toBe(0)
    expect(run.results[0]).toMatchObject({
      status: 'deployed',
      health: { ok: true, newlyFailed: [], alreadyFailed: ['backup.service'] }
    })
    expect(run.summary).toContain('already failed: 1')
    expect(run.summary).toContain('backup.service')
  }, 60_000)

  it('waits while the system is starting, then deploys', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'booting' } })
    expect(run.main.code).toBe(0)
    expect(run.results[0]).toMatchObject({ status: 'deployed', health: { ok: true } })
    const asked = (await fleet.systemdCalls('booting')).filter(
      call => call === 'systemctl is-system-running'
    )
    expect(asked.length).toBeGreaterThan(1)
  }, 60_000)

  it('a check that outlives health-timeout makes the node unhealthy', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'stuck', 'health-timeout': '2' } })
    expect(run.main.code).not.toBe(0)
    expect(run.results[0]).toMatchObject({
      status: 'unhealthy',
      stage: 'health',
      error: expect.stringMatching(/did not finish within 2 s/)
    })
  }, 60_000)

  it('auto skips a host without systemctl; systemd makes it unhealthy', async () => {
    const auto = await runOnFleet(fleet, { inputs: { targets: 'darwin' } })
    expect(auto.results[0]).toMatchObject({ status: 'deployed', health: null })
    const strict = await runOnFleet(fleet, {
      inputs: { targets: 'darwin', 'health-check': 'systemd' }
    })
    expect(strict.main.code).not.toBe(0)
    expect(strict.results[0]).toMatchObject({ status: 'unhealthy', stage: 'health' })
  }, 60_000)
})

describe('a custom check', () => {
  it('exit 0 is healthy, anything else unhealthy with its output', async () => {
    const pass = await runOnFleet(fleet, {
      inputs: {
        targets: 'web',
        // the profile as nix-env leaves it: system -> system-N-link (test-support/fleet/profiles.ts)
        'health-check':
          'g=$(readlink "$FLEET_HOST_DIR/profiles/system") && g=${g%-link} && echo "generation ${g##*-}"'
      }
    })
    expect(pass.main.code).toBe(0)
    expect(pass.results[0]).toMatchObject({
      status: 'deployed',
      health: { ok: true, output: expect.stringMatching(/^generation \d+$/) }
    })
    const fail = await runOnFleet(fleet, {
      inputs: { targets: 'web', 'health-check': 'echo "GET /health: 503"; exit 3' }
    })
    expect(fail.main.code).not.toBe(0)
    expect(fail.results[0]).toMatchObject({
      status: 'unhealthy',
      health: { ok: false, output: 'GET /health: 503' },
      error: expect.stringContaining('exited with code 3')
    })
    expect(fail.summary).toContain('GET /health: 503')
  }, 60_000)
})

describe('sessions', () => {
  it('health-check false opens no extra ssh session; the check costs one before and one after', async () => {
    const off = await sessionsDuring(['cache'], () =>
      runOnFleet(fleet, { inputs: { targets: 'cache', 'health-check': 'false' } })
    )
    expect(off.value.results[0]).toMatchObject({ status: 'deployed', health: null })
    const on = await sessionsDuring(['cache'], () =>
      runOnFleet(fleet, { inputs: { targets: 'cache' } })
    )
    expect(on.value.results[0]).toMatchObject({ status: 'deployed', health: { ok: true } })
    expect(on.sessions.cache).toBe(off.sessions.cache! + 2)
  }, 60_000)

  it('a dry run never runs a check: no systemctl call, no extra session', async () => {
    const callsBefore = (await fleet.systemdCalls('web')).length
    const dryRun = (healthCheck: string) =>
      sessionsDuring(['web'], () =>
        runOnFleet(fleet, {
          inputs: { targets: 'web', 'dry-run': 'true', 'health-check': healthCheck }
        })
      )
    const checked = await dryRun('systemd')
    const unchecked = await dryRun('false')
    expect(checked.value.results[0]).toMatchObject({ status: 'dry-run', health: null })
    expect(checked.sessions.web).toBe(unchecked.sessions.web)
    expect((await fleet.systemdCalls('web')).length).toBe(callsBefore)
  }, 60_000)
})

describe('canary', () => {
  it('a failed canary: every other node is skipped and never reached', async () => {
    const { value: run, sessions } = await sessionsDuring(['web', 'cache'], () =>
      runOnFleet(fleet, { inputs: { targets: 'broken, web, cache', canary: 'broken' } })
    )
    expect(run.main.code).not.toBe(0)
    expect(statuses(run)).toEqual({ broken: 'rolled-back', web: 'skipped', cache: 'skipped' })
    expect(run.results.find(r => r.node === 'web')?.error).toMatch(
      /canary node broken ended rolled-back/
    )
    expect(sessions).toEqual({ web: 0, cache: 0 })
    expect(run.summary).toMatch(/canary stopped the rollout/i)
  }, 60_000)

  it('an unhealthy canary stops the rollout too', async () => {
    await fleet.setSystemd('proxy', { failedAfter: ['nginx.service'] })
    const { value: run, sessions } = await sessionsDuring(['web', 'cache'], () =>
      runOnFleet(fleet, { inputs: { targets: 'web, cache, proxy', canary: 'proxy' } })
    )
    expect(statuses(run)).toEqual({ web: 'skipped', cache: 'skipped', proxy: 'unhealthy' })
    expect(run.results.find(r => r.node === 'cache')?.error).toMatch(
      /canary node proxy ended unhealthy/
    )
    expect(sessions).toEqual({ web: 0, cache: 0 })
  }, 60_000)

  it('a healthy canary lets the rest follow', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'web, cache', canary: 'cache' } })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'deployed', cache: 'deployed' })
  }, 60_000)

  it('a canary that is not in targets is an input error', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'web', canary: 'cache' } })
    expect(run.main.code).not.toBe(0)
    expect(run.main.stdout).toMatch(/canary: .cache. is not in targets/)
    expect(run.results).toEqual([])
  }, 60_000)
})
