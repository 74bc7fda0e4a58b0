/**
 * The health check's remote side against real sandbox hosts: src/ssh's
 * remote command over sshd with the action's own ssh config, the systemd
 * scripts run by the hosts' login shell, and the fleet's systemctl /
 * journalctl stand-ins that answer "before" or "after" from what the
 * deploy-rs stand-in's activation really left on each host.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHealth, readBaseline, type HealthContext } from '../../src/health/check.js'
import type { HealthCheck } from '../../src/health/mode.js'
import { WORKSPACE_PREFIX, writeSshConfig, type Workspace } from '../../src/ssh/workspace.js'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'

const SYSTEMD: HealthCheck = { kind: 'systemd', requireSystemctl: false }

describe('health checks on sandbox hosts', () => {
  let fleet: Fleet
  let workspace: Workspace

  beforeAll(async () => {
    fleet = await startFleet({
      nodes: [
        { name: 'healthy' },
        { name: 'breaks', systemd: { failedAfter: ['nginx.service'] } },
        { name: 'already', systemd: { failedBefore: ['backup.service'] } },
        { name: 'starting', systemd: { startingSeconds: 3 } },
        { name: 'bare', systemd: { absent: true } },
        { name: 'hangs', systemd: { hang: true } },
        {
          name: 'rolls-back',
          behaviour: 'activation-fails',
          systemd: { failedAfter: ['db.service'] }
        },
        { name: 'gone', kind: 'down' }
      ]
    })
    const dir = await mkdtemp(join(tmpdir(), WORKSPACE_PREFIX))
    workspace = {
      dir,
      keyFiles: [fleet.clientKey.privateKeyPath],
      knownHostsFile: fleet.knownHostsPath,
      sshConfigFile: join(dir, 'ssh_config'),
      logsDir: join(dir, 'logs')
    }
    await writeSshConfig(workspace, [])
  }, 30_000)

  afterAll(async () => {
    await fleet?.stop()
    if (workspace) await rm(workspace.dir, { recursive: true, force: true })
  })

  function context(node: string, timeoutMs = 20_000): HealthContext {
    const host = fleet.host(node)
    return {
      workspace,
      target: {
        hostname: host.address,
        sshUser: fleet.loginUser,
        sshOpts: ['-p', String(host.port)]
      },
      user: fleet.loginUser,
      timeoutMs
    }
  }

  /** A real deploy of the node by the deploy-rs stand-in (its activation changes the host). */
  function deploy(node: string): Promise<number | null> {
    const env = { ...process.env, ...fleet.env, PATH: `${fleet.binDir}:${process.env.PATH ?? ''}` }
    const argv = [
      ...fleet.standInCommand,
      '--skip-checks',
      `--ssh-opts=${fleet.sshOptsFor(node).join(' ')}`,
      `${fleet.flakeDir}#${node}`
    ]
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' })
      child.on('error', reject)
      child.on('close', resolve)
    })
  }

  /** before → deploy → after, counting the ssh sessions each check opened. */
  async function checkAround(node: string, check: HealthCheck = SYSTEMD, timeoutMs?: number) {
    const ctx = context(node, timeoutMs)
    const sessions0 = await fleet.sessions(node)
    const baseline = await readBaseline(check, ctx)
    const sessions1 = await fleet.sessions(node)
    const deployed = await deploy(node)
    const sessions2 = await fleet.sessions(node)
    if (baseline === 'cancelled') throw new Error('cancelled')
    const verdict = await checkHealth(baseline, ctx)
    const sessions3 = await fleet.sessions(node)
    if (verdict === 'cancelled') throw new Error('cancelled')
    return {
      verdict,
      deployed,
      sessionsBefore: sessions1 - sessions0,
      sessionsAfter: sessions3 - sessions2
    }
  }

  it('a healthy node: one session before, one after, nothing failed', async () => {
    const { verdict, deployed, sessionsBefore, sessionsAfter } = await checkAround('healthy')
    expect(deployed).toBe(0)
    expect(verdict).toEqual({
      health: { ok: true, newlyFailed: [], alreadyFailed: [], output: '' },
      error: null,
      journals: [],
      note: null
    })
    expect([sessionsBefore, sessionsAfter]).toEqual([1, 1])
  }, 30_000)

  it('a unit that fails only after the switch: unhealthy, with its journal', async () => {
    const { verdict } = await checkAround('breaks')
    expect(verdict.health).toMatchObject({
      ok: false,
      newlyFailed: ['nginx.service'],
      alreadyFailed: []
    })
    expect(verdict.error).toBe('health check: 1 unit failed after the deploy: nginx.service')
    expect(verdict.journals).toEqual([
      {
        unit: 'nginx.service',
        lines: expect.arrayContaining([
          'Dec 02 06:00:01 host systemd[1]: Failed to start nginx.service.'
        ])
      }
    ])
    expect(await fleet.systemdCalls('breaks')).toContain(
      'journalctl -u nginx.service -n 20 --no-pager'
    )
  }, 30_000)

  it('a unit already failed before: reported, not a failure, no journal fetched', async () => {
    const { verdict } = await checkAround('already')
    expect(verdict.health).toMatchObject({
      ok: true,
      newlyFailed: [],
      alreadyFailed: ['backup.service']
    })
    expect(verdict.error).toBeNull()
    expect((await fleet.systemdCalls('already')).filter(c => c.startsWith('journalctl'))).toEqual(
      []
    )
  }, 30_000)

  it('a system still starting: waits until it runs', async () => {
    const { verdict } = await checkAround('starting')
    expect(verdict.health).toMatchObject({ ok: true })
    const asked = (await fleet.systemdCalls('starting')).filter(
      c => c === 'systemctl is-system-running'
    )
    expect(asked.length).toBeGreaterThan(1)
  }, 30_000)

  it('a host without systemctl: skipped on auto without a second session; unhealthy on systemd', async () => {
    const auto = await checkAround('bare')
    expect(auto.verdict).toMatchObject({ health: null, error: null })
    expect(auto.verdict.note).toMatch(/no systemd/)
    expect([auto.sessionsBefore, auto.sessionsAfter]).toEqual([1, 0])
    const strict = await checkAround('bare', { kind: 'systemd', requireSystemctl: true })
    expect(strict.verdict.health?.ok).toBe(false)
    expect(strict.verdict.error).toMatch(/no systemctl/)
  }, 30_000)

  it('a check that hangs: unhealthy after health-timeout', async () => {
    const { verdict } = await checkAround('hangs', SYSTEMD, 3000)
    expect(verdict.health?.ok).toBe(false)
    expect(verdict.error).toBe('health check: did not finish within 3 s')
  }, 30_000)

  it('a host that rolled back is as before: nothing newly failed', async () => {
    const { verdict, deployed } = await checkAround('rolls-back')
    expect(deployed).not.toBe(0)
    expect(await fleet.hostLog('rolls-back')).toContain('rollback system')
    expect(verdict.health).toMatchObject({ ok: true, newlyFailed: [] })
  }, 30_000)

  it('a host that cannot be reached: unhealthy with ssh’s own message', async () => {
    const baseline = await readBaseline(SYSTEMD, context('gone'))
    if (baseline === 'cancelled') throw new Error('cancelled')
    const verdict = await checkHealth(baseline, context('gone'))
    expect(verdict).toMatchObject({ health: { ok: false } })
    expect(verdict !== 'cancelled' && verdict.error).toMatch(
      /^health check: could not read the failed units before the deploy: could not connect: ssh: connect to host 127\.0\.0\.254 port \d+: Connection refused$/
    )
  }, 30_000)

  it('a custom command: runs after the deploy only, its exit status decides', async () => {
    await fleet.setSystemd('healthy', {})
    const pass = await checkAround('healthy', {
      kind: 'command',
      command:
        // the profile as nix-env leaves it: system -> system-N-link (test-support/fleet/profiles.ts)
        'g=$(readlink "$FLEET_HOST_DIR/profiles/system") && g=${g%-link} && echo "generation ${g##*-}"'
    })
    expect(pass.verdict.health).toMatchObject({
      ok: true,
      output: expect.stringMatching(/^generation \d+$/)
    })
    expect([pass.sessionsBefore, pass.sessionsAfter]).toEqual([0, 1])

    const fail = await checkAround('healthy', {
      kind: 'command',
      command: 'echo "503 from /health"; exit 3'
    })
    expect(fail.verdict).toMatchObject({
      health: { ok: false, output: '503 from /health' },
      error: 'health check: the command exited with code 3'
    })

    const slow = await checkAround(
      'healthy',
      { kind: 'command', command: 'echo waiting; sleep 30' },
      1500
    )
    expect(slow.verdict).toMatchObject({
      health: { ok: false, output: 'waiting' },
      error: 'health check: the command did not finish within 1.5 s'
    })
  }, 60_000)

  it('a later run sees the state the host is in now: a unit failed by the last deploy is already failed', async () => {
    await fleet.setSystemd('breaks', { failedAfter: ['nginx.service', 'worker.service'] })
    // The host is now "before" for the new state: nothing failed yet by its own account.
    const { verdict } = await checkAround('breaks')
    expect(verdict.health).toMatchObject({
      ok: false,
      newlyFailed: ['nginx.service', 'worker.service']
    })
  }, 30_000)
})
