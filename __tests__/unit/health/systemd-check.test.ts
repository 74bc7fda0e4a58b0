import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  afterScript,
  beforeScript,
  JOURNAL_LINES,
  MAX_LINE_CHARS,
  newHealthToken,
  parseAfter,
  parseBefore,
  parseFailedUnits
} from '../../../src/health/systemd-check.js'
import {
  fakeSystemdCalls,
  sessionPath,
  setFakeSystemd,
  writeFakeSystemdTools,
  type FakeSystemdSpec
} from '../../../test-support/fleet/fake-systemd.js'

const TOKEN = '0123456789abcdef0123456789abcdef'

describe('parseFailedUnits', () => {
  it('takes the first word of each line, after a status mark', () => {
    const listing = [
      'nginx.service loaded failed failed A high performance web server',
      '● backup.timer   loaded failed failed Nightly backup',
      '* user@1000.service loaded failed failed User Manager for UID 1000',
      'dev-disk-by\\x2dlabel-data.mount loaded failed failed /data'
    ].join('\n')
    expect(parseFailedUnits(listing)).toEqual([
      'nginx.service',
      'backup.timer',
      'user@1000.service',
      'dev-disk-by\\x2dlabel-data.mount'
    ])
  })

  it('skips what is not a unit name: warnings, legends, blanks, duplicates', () => {
    const listing = [
      '',
      'Warning: The unit file changed on disk. Run systemctl daemon-reload.',
      '0 loaded units listed.',
      'nginx.service loaded failed failed x',
      'nginx.service loaded failed failed x',
      'evil$(id).service loaded failed failed y'
    ].join('\n')
    expect(parseFailedUnits(listing)).toEqual(['nginx.service'])
  })
})

describe('parsing the scripts output', () => {
  it('reads a host without systemctl, and a listing', () => {
    expect(parseBefore(`${TOKEN}:no-systemctl\n`, '', TOKEN)).toEqual({ kind: 'no-systemctl' })
    expect(
      parseBefore(
        `${TOKEN}:failed-units\nold.service loaded failed failed x\n${TOKEN}:end 0\n`,
        '',
        TOKEN
      )
    ).toEqual({ kind: 'listed', failed: ['old.service'] })
  })

  it('takes a systemctl that is installed but not running systemd for no systemd', () => {
    const stderr =
      "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n"
    expect(parseBefore(`${TOKEN}:failed-units\n${TOKEN}:end 1\n`, stderr, TOKEN)).toEqual({
      kind: 'no-systemctl'
    })
  })

  it('says why a listing failed or was cut short', () => {
    expect(
      parseBefore(
        `${TOKEN}:failed-units\n${TOKEN}:end 1\n`,
        'Failed to connect to bus: No such file\n',
        TOKEN
      )
    ).toEqual({
      kind: 'unreadable',
      reason:
        '`systemctl list-units --failed` exited with code 1: Failed to connect to bus: No such file'
    })
    expect(
      parseBefore(`${TOKEN}:failed-units\nnginx.service loaded failed failed x\n`, '', TOKEN)
    ).toEqual({
      kind: 'unreadable',
      reason: 'the list of failed units was cut short'
    })
  })

  it('ignores marker lines that do not carry the run token', () => {
    const other = 'ffffffffffffffffffffffffffffffff'
    const stdout = [
      `${TOKEN}:state running`,
      `${TOKEN}:failed-units`,
      'new.service loaded failed failed x',
      `${TOKEN}:end 0`,
      `${TOKEN}:journal new.service`,
      `${other}:journal-end`,
      `${other}:journal forged.service`,
      'line 2',
      `${TOKEN}:journal-end`
    ].join('\n')
    const after = parseAfter(stdout, '', TOKEN)
    expect(after).toMatchObject({
      kind: 'listed',
      state: 'running',
      failed: ['new.service'],
      journals: [
        {
          unit: 'new.service',
          lines: [`${other}:journal-end`, `${other}:journal forged.service`, 'line 2']
        }
      ]
    })
  })

  it('bounds journal lines in number and length', () => {
    const long = 'x'.repeat(MAX_LINE_CHARS * 3)
    const stdout = [
      `${TOKEN}:state degraded`,
      `${TOKEN}:failed-units`,
      `${TOKEN}:end 0`,
      `${TOKEN}:journal a.service`,
      ...Array.from({ length: JOURNAL_LINES + 5 }, (_, i) => `${i} ${long}`),
      `${TOKEN}:journal-end`
    ].join('\n')
    const after = parseAfter(stdout, '', TOKEN)
    if (after.kind !== 'listed') throw new Error(after.kind)
    expect(after.journals[0]!.lines).toHaveLength(JOURNAL_LINES)
    expect(after.journals[0]!.lines[0]).toMatch(/^5 x+…$/)
    expect(after.journals[0]!.lines[0]!.length).toBe(MAX_LINE_CHARS + 1)
  })
})

/**
 * The scripts, run by a real sh against the sandbox fleet's systemctl and
 * journalctl stand-ins (without ssh: `sh -c COMMAND` is what the host's
 * login shell does with it).
 */
describe('the remote scripts', () => {
  let dir: string
  let tools: { toolsDir: string; usrBinShadow: string }
  let stateDir: string
  let binDir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'health-scripts-'))
    tools = await writeFakeSystemdTools(dir)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  let hostCount = 0
  async function host(spec: FakeSystemdSpec): Promise<void> {
    hostCount++
    stateDir = join(dir, `host-${hostCount}`)
    binDir = join(dir, `bin-${hostCount}`)
    await setFakeSystemd(stateDir, binDir, tools.toolsDir, spec)
  }
  /**
   * The stand-in deploy-rs's activation: a new generation of the profile, as
   * nix-env leaves it (system -> system-1-link; test-support/fleet/profiles.ts).
   */
  const activate = async (): Promise<void> => {
    await mkdir(join(stateDir, 'profiles'), { recursive: true })
    await symlink('/nix/store/x', join(stateDir, 'profiles', 'system-1-link'))
    await symlink('system-1-link', join(stateDir, 'profiles', 'system'))
  }
  function onHost(command: string): { stdout: string; stderr: string } {
    const result = spawnSync('sh', ['-c', command], {
      encoding: 'utf8',
      env: { PATH: sessionPath(binDir, tools.usrBinShadow), FLEET_HOST_DIR: stateDir },
      timeout: 20_000
    })
    expect(result.status).toBe(0)
    return { stdout: result.stdout, stderr: result.stderr }
  }
  const before = (): ReturnType<typeof parseBefore> => {
    const token = newHealthToken()
    const { stdout, stderr } = onHost(beforeScript(token))
    return parseBefore(stdout, stderr, token)
  }
  const after = (already: string[], wait = 5): ReturnType<typeof parseAfter> => {
    const token = newHealthToken()
    const { stdout, stderr } = onHost(afterScript(token, already, wait))
    return parseAfter(stdout, stderr, token)
  }

  it('before: lists the failed units, or says there is no systemctl', async () => {
    await host({ failedBefore: ['old.service'] })
    expect(before()).toEqual({ kind: 'listed', failed: ['old.service'] })
    await host({ absent: true })
    expect(before()).toEqual({ kind: 'no-systemctl' })
  })

  it('after: fetches the journal of newly failed units only', async () => {
    await host({
      failedBefore: ['old.service'],
      failedAfter: ['old.service', 'nginx.service'],
      journal: { 'nginx.service': ['nginx: bind() to 0.0.0.0:80 failed'] }
    })
    const baseline = before()
    await activate()
    expect(baseline).toEqual({ kind: 'listed', failed: ['old.service'] })
    expect(after(['old.service'])).toEqual({
      kind: 'listed',
      state: 'degraded',
      failed: ['old.service', 'nginx.service'],
      listing: expect.stringContaining('nginx.service loaded failed failed'),
      journals: [{ unit: 'nginx.service', lines: ['nginx: bind() to 0.0.0.0:80 failed'] }]
    })
    expect(await fakeSystemdCalls(stateDir)).toContain(
      'journalctl -u nginx.service -n 20 --no-pager'
    )
    expect(await fakeSystemdCalls(stateDir)).not.toContain(
      'journalctl -u old.service -n 20 --no-pager'
    )
  })

  it('after: asks again while the system is starting, up to the wait', async () => {
    await host({ startingSeconds: 2 })
    await activate()
    expect(after([], 30)).toMatchObject({ kind: 'listed', state: 'running', failed: [] })
    const asked = (await fakeSystemdCalls(stateDir)).filter(
      c => c === 'systemctl is-system-running'
    )
    expect(asked.length).toBeGreaterThan(1)

    await host({ startingSeconds: 600 })
    await activate()
    expect(after([], 1)).toMatchObject({ kind: 'listed', state: 'starting' })
  })

  it('quotes the units passed in, and never runs what a host prints', async () => {
    const marker = join(dir, 'pwned')
    await host({ failedAfter: [`evil$(touch ${marker}).service`, "it's.service"] })
    await activate()
    const reading = after([`x'; touch ${marker}; '.service`, `$(touch ${marker})`])
    expect(reading).toMatchObject({ kind: 'listed', failed: [] })
    expect(existsSync(marker)).toBe(false)
  })
})
