/**
 * The deploy path end to end: the bundled dist/ entries run as the GitHub
 * runner runs them, against real sshd hosts, a real `nix eval` of the fixture
 * flake and the deploy-rs stand-in that really connects over ssh.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { leftovers, runOnFleet, statuses } from '../../test-support/action/fleet-run.js'

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'web', changes: { restart: ['nginx.service'], start: ['new.service'] } },
      {
        name: 'db.lan',
        profiles: ['system', 'backup'],
        changes: { stop: ['postgresql.service'], restartSystemd: true }
      },
      { name: 'cache' },
      // activation fails; activate-rs de-activates it (autoRollback, deploy-rs's default)
      { name: 'broken', behaviour: 'activation-fails' },
      { name: 'offline', kind: 'down' }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

const healthy = 'web, db.lan, cache'

describe('push to main', () => {
  it('deploys every targeted node over ssh, reports each, and cleans up', async () => {
    // A user's ~/.ssh whose config would weaken host-key checking if the action read it.
    const userSsh = {
      config: 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n',
      known_hosts:
        'example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n',
      authorized_keys:
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me\n'
    }
    let sshDir = ''
    const run = await runOnFleet(fleet, {
      inputs: { targets: healthy },
      eventName: 'push',
      prepareHome: async home => {
        sshDir = join(home, '.ssh')
        await mkdir(sshDir, { mode: 0o700 })
        for (const [file, text] of Object.entries(userSsh))
          await writeFile(join(sshDir, file), text, { mode: 0o600 })
      }
    })

    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'deployed', 'db.lan': 'deployed', cache: 'deployed' })
    expect(JSON.parse(run.outputs.hosts)).toEqual(['web', 'db.lan', 'cache'])
    expect(JSON.parse(run.outputs.succeeded)).toEqual(['web', 'db.lan', 'cache'])
    expect(JSON.parse(run.outputs.failed)).toEqual([])
    const db = run.results.find(r => r.node === 'db.lan')
    expect(db).toMatchObject({
      hostname: fleet.host('db.lan').address,
      profiles: ['system', 'backup'],
      stage: null,
      exitCode: 0,
      dryRun: false,
      changes: null,
      error: null
    })
    // Really activated and confirmed on the hosts, every profile.
    expect(await fleet.hostLog('web')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^activate system/),
        expect.stringMatching(/^confirm system/)
      ])
    )
    expect(
      (await fleet.hostLog('db.lan')).filter(line => line.startsWith('activate'))
    ).toHaveLength(2)
    // One deploy-rs per node, checks once for the run, --skip-checks on every call
    // (this is the file's first run, so every call logged is this run's).
    const calls = await fleet.calls()
    const deploys = calls.filter(c => c.tool === 'deploy')
    expect(deploys).toHaveLength(3)
    expect(calls.filter(c => c.tool === 'nix' && c.argv.includes('check'))).toHaveLength(1)
    for (const call of deploys) expect(call.argv).toContain('--skip-checks')
    expect(deploys.some(c => c.argv.includes(`${fleet.flakeDir}#"db.lan"`))).toBe(true)
    // Summary: a row per node.
    for (const node of ['web', 'db.lan', 'cache']) expect(run.summary).toContain(`| ${node} |`)
    // Post removed everything; ~/.ssh exactly as it was.
    expect(run.post?.code).toBe(0)
    expect(await leftovers(run.runnerTemp)).toEqual([])
    expect((await readdir(sshDir)).sort()).toEqual(Object.keys(userSsh).sort())
    for (const [file, text] of Object.entries(userSsh)) {
      expect(await readFile(join(sshDir, file), 'utf8')).toBe(text)
      expect((await stat(join(sshDir, file))).mode & 0o777).toBe(0o600)
    }
  }, 90_000)
})

describe('workflow_dispatch with one chosen node', () => {
  it('deploys only that node', async () => {
    const before = (await fleet.hostLog('cache')).length
    const beforeWeb = (await fleet.hostLog('web')).length
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'cache', 'dry-run': 'false' },
      eventName: 'workflow_dispatch',
      eventPayload: { inputs: { target: 'cache', 'dry-run': false } }
    })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ cache: 'deployed' })
    expect(JSON.parse(run.outputs.hosts)).toEqual(['cache'])
    expect((await fleet.hostLog('cache')).length).toBeGreaterThan(before)
    expect((await fleet.hostLog('web')).length).toBe(beforeWeb)
  }, 60_000)

  it('deploys a single profile with node.profile', async () => {
    const before = await fleet.hostLog('db.lan')
    const run = await runOnFleet(fleet, {
      inputs: { targets: '"db.lan".backup' },
      eventName: 'workflow_dispatch'
    })
    expect(run.main.code).toBe(0)
    expect(run.results[0]).toMatchObject({
      node: 'db.lan',
      profiles: ['backup'],
      status: 'deployed'
    })
    const added = (await fleet.hostLog('db.lan')).slice(before.length)
    expect(added.some(line => line.startsWith('activate backup'))).toBe(true)
    expect(added.some(line => line.startsWith('activate system'))).toBe(false)
  }, 60_000)
})

describe('pull request', () => {
  it('dry-activates every node, activates none, and reports the unit changes', async () => {
    const logsBefore = await Promise.all(['web', 'db.lan', 'cache'].map(n => fleet.hostLog(n)))
    const run = await runOnFleet(fleet, {
      inputs: { targets: healthy, 'pr-comment': 'false' },
      eventName: 'pull_request',
      eventPayload: {
        pull_request: {
          number: 5,
          head: {
            sha: 'feedfacefeedfacefeedfacefeedfacefeedface',
            repo: { full_name: 'octo/homelab' }
          }
        }
      }
    })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'dry-run', 'db.lan': 'dry-run', cache: 'dry-run' })
    for (const [index, node] of ['web', 'db.lan', 'cache'].entries()) {
      const added = (await fleet.hostLog(node)).slice(logsBefore[index].length)
      expect(added.some(line => line.startsWith('dry-activate'))).toBe(true)
      expect(added.some(line => /^(activate|confirm)/.test(line))).toBe(false)
    }
    const web = run.results.find(r => r.node === 'web')
    expect(web).toMatchObject({
      dryRun: true,
      changes: {
        restart: ['nginx.service'],
        start: ['new.service'],
        stop: [],
        reload: [],
        restartSystemd: false
      }
    })
    expect(run.results.find(r => r.node === 'db.lan')?.changes).toMatchObject({
      stop: ['postgresql.service'],
      restartSystemd: true
    })
    const calls = (await fleet.calls()).filter(c => c.tool === 'deploy').slice(-3)
    for (const call of calls)
      expect(call.argv.join(' ')).toContain('--dry-activate --rollback-succeeded false')
    expect(run.summary).toContain('nginx.service')
  }, 60_000)
})

describe('failures', () => {
  it('rejects an unknown target before connecting, listing the nodes', async () => {
    const callsBefore = (await fleet.calls()).filter(c => c.tool === 'deploy').length
    const run = await runOnFleet(fleet, { inputs: { targets: 'web, nosuchnode' } })
    expect(run.main.code).toBe(1)
    expect(run.main.stdout).toMatch(
      /::error::.*"nosuchnode" is not a node of the flake.*The nodes are: broken, cache, db\.lan, offline, web/
    )
    expect(run.main.stdout).not.toMatch(/\n\s+at /) // no stack trace
    expect((await fleet.calls()).filter(c => c.tool === 'deploy').length).toBe(callsBefore)
    expect(JSON.parse(run.outputs.results)).toEqual([])
    expect(run.summary).toContain('nosuchnode')
    expect(await leftovers(run.runnerTemp)).toEqual([])
    expect(existsSync(join(run.home, '.ssh'))).toBe(false)
  }, 60_000)

  it('keeps deploying the others when one node fails activation (rolled back on the host) or is unreachable', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'web, broken, offline, cache' } })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({
      web: 'deployed',
      broken: 'rolled-back',
      offline: 'unreachable',
      cache: 'deployed'
    })
    const offline = run.results.find(r => r.node === 'offline')
    expect(offline).toMatchObject({ stage: 'keyscan', exitCode: null })
    expect(String(offline?.error)).toMatch(/no host key/)
    expect(run.results.find(r => r.node === 'broken')).toMatchObject({
      stage: 'activate',
      exitCode: 1
    })
    expect(JSON.parse(run.outputs.failed)).toEqual(['broken', 'offline'])
    expect(run.main.stdout).toMatch(/::error title=broken::/)
    expect(run.main.stdout).toMatch(
      /::error::2 of 4 node\(s\) did not succeed: broken \(rolled-back\), offline \(unreachable\)/
    )
    expect(run.summary).toMatch(/<details>[\s\S]*broken[\s\S]*<\/details>/)
  }, 90_000)

  it('with fail-fast, starts no node after the first failure', async () => {
    const before = (await fleet.hostLog('cache')).length
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'broken, web, cache', parallel: '1', 'fail-fast': 'true' }
    })
    expect(run.main.code).toBe(1)
    expect(statuses(run)).toEqual({ broken: 'rolled-back', web: 'skipped', cache: 'skipped' })
    expect(run.results.find(r => r.node === 'web')?.error).toMatch(/fail-fast/)
    expect((await fleet.hostLog('cache')).length).toBe(before)
  }, 60_000)

  it('fails a host whose pinned key does not match, without scanning it', async () => {
    const otherHost = fleet.hosts
      .find(h => h.name === 'cache')
      ?.hostKeyLine?.split(' ')
      .slice(1)
      .join(' ')
    const web = fleet.host('web')
    const wrongPin = `[${web.address}]:${web.port} ${otherHost}`
    const run = await runOnFleet(fleet, { inputs: { targets: 'web', 'known-hosts': wrongPin } })
    expect(run.main.code).toBe(1)
    expect(run.results[0]).toMatchObject({ node: 'web', status: 'unreachable', stage: 'push' })
    expect(String(run.results[0].error)).toMatch(/host key/i)
    expect(run.main.stdout).not.toMatch(/trust on first use/)
    expect(run.main.stdout).toMatch(/host key pinned by known-hosts/)
  }, 60_000)

  it('needs a pin when ssh-keyscan is false', async () => {
    const run = await runOnFleet(fleet, { inputs: { targets: 'web', 'ssh-keyscan': 'false' } })
    expect(run.main.code).toBe(1)
    expect(run.results[0]).toMatchObject({ status: 'unreachable', stage: 'keyscan' })
    expect(String(run.results[0].error)).toMatch(/no pinned host key.*ssh-keyscan is false/)
  }, 60_000)

  it('deploys with pinned host keys only', async () => {
    const pins = fleet.hosts.flatMap(h => (h.hostKeyLine ? [h.hostKeyLine] : [])).join('\n')
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'web', 'known-hosts': pins, 'ssh-keyscan': 'false' }
    })
    expect(run.main.code).toBe(0)
    expect(statuses(run)).toEqual({ web: 'deployed' })
  }, 60_000)
})

describe('ssh-config', () => {
  it('reaches a host through ProxyJump, the jump host verified against the same pinned keys', async () => {
    const bastion = fleet.host('web')
    const target = fleet.host('cache')
    const pins = [bastion, target].map(h => h.hostKeyLine).join('\n')
    const before = (await fleet.hostLog('cache')).length
    const run = await runOnFleet(fleet, {
      inputs: {
        targets: 'cache',
        'ssh-keyscan': 'false',
        'known-hosts': pins,
        'ssh-config': `Host ${target.address}\n  ProxyJump ${fleet.loginUser}@${bastion.address}:${bastion.port}`
      }
    })
    expect(statuses(run)).toEqual({ cache: 'deployed' })
    expect((await fleet.hostLog('cache')).length).toBeGreaterThan(before)
  }, 60_000)

  it('fails when the jump host is not pinned (ssh-keyscan false), instead of trusting it', async () => {
    const bastion = fleet.host('web')
    const target = fleet.host('cache')
    const run = await runOnFleet(fleet, {
      inputs: {
        targets: 'cache',
        'ssh-keyscan': 'false',
        'known-hosts': String(target.hostKeyLine),
        'ssh-config': `Host ${target.address}\n  ProxyJump ${fleet.loginUser}@${bastion.address}:${bastion.port}`
      }
    })
    expect(run.main.code).toBe(1)
    expect(run.results[0]).toMatchObject({ node: 'cache', status: 'unreachable', stage: 'push' })
  }, 60_000)
})
