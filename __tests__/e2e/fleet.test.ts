/**
 * The sandbox fleet itself: real sshd hosts with pinned host keys, a black
 * hole, and the deploy-rs stand-in deploying over real ssh. If this fails,
 * every other e2e test would fail for reasons that are not the action's.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<Run> {
  const [file, ...args] = argv
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A process that exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Live processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter(pid => Number.isInteger(pid) && pid !== process.pid)
    .filter(pid => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(text) && isAlive(pid)
      } catch {
        return false
      }
    })
}

const INFO = '[\x1b[38;5;51mINFO\x1b[0m]'

describe('sandbox fleet', () => {
  let fleet: Fleet
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    fleet = await startFleet({
      nodes: [
        { name: 'web' },
        {
          name: 'db.lan',
          behaviour: 'dry-pre-switch-fails',
          changes: { restart: ['nginx.service'] }
        },
        { name: 'hole', kind: 'blackhole' }
      ]
    })
    env = { ...process.env, ...fleet.env, PATH: `${fleet.binDir}:${process.env.PATH ?? ''}` }
  }, 15_000)

  afterAll(async () => {
    await fleet?.stop()
  })

  const standIn = (args: string[]): Promise<Run> => run([...fleet.standInCommand, ...args], env)
  const sshOpts = (node: string): string => `--ssh-opts=${fleet.sshOptsFor(node).join(' ')}`

  it('serves each sshd host with its pinned host key, and the black hole never answers', async () => {
    expect(fleet.hosts.map(h => h.address)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4'])
    const strict = (node: string): string[] => {
      const host = fleet.host(node)
      return [
        'ssh', '-F', '/dev/null',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${fleet.knownHostsPath}`,
        '-o', 'BatchMode=yes',
        '-o', 'IdentitiesOnly=yes',
        '-o', 'ConnectTimeout=2',
        '-i', fleet.clientKey.privateKeyPath,
        '-p', String(host.port),
        `${fleet.loginUser}@${host.address}`,
        'echo "$FLEET_HOST_DIR"'
      ] // prettier-ignore
    }
    for (const node of ['web', 'db.lan']) {
      const host = fleet.host(node)
      expect(host.hostKeyLine).toMatch(
        new RegExp(`^\\[${host.address.replace(/\./g, '\\.')}\\]:${host.port} ssh-ed25519 AAAA`)
      )
      const result = await run(strict(node), env)
      expect(result).toMatchObject({ code: 0, stdout: `${host.stateDir}\n` })
    }
    const hole = await run(strict('hole'), env)
    expect(hole.code).toBe(255)
    expect(hole.stderr).toMatch(/timed out/)
  }, 15_000)

  it('deploys a node over ssh like deploy-rs', async () => {
    const result = await standIn(['--skip-checks', sshOpts('web'), `${fleet.flakeDir}#web`])
    expect(result.code).toBe(0)
    expect(await fleet.hostLog('web')).toEqual([
      expect.stringMatching(/^push system \/nix\/store\/[0-9a-z]{32}-web-system$/),
      'activate system',
      'confirm system'
    ])
    const lines = result.stderr.split('\n')
    expect(lines).toContain(`🚀 ℹ️ [deploy] ${INFO} Copying profile \`system\` to node \`web\``)
    expect(lines).toContain(`🚀 ℹ️ [deploy] ${INFO} Activating profile \`system\` for node \`web\``)
    expect(lines).toContain(`⭐ ℹ️ [activate] ${INFO} Activating profile`)
    expect(lines).toContain(`🚀 ℹ️ [deploy] ${INFO} Deployment confirmed.`)
    expect(lines.some(l => /ERROR/.test(l))).toBe(false)
  }, 15_000)

  it('runs the real nix checks through the logging nix wrapper', async () => {
    const before = (await fleet.calls()).length
    const result = await run(['deploy', sshOpts('web'), `${fleet.flakeDir}#web`], env)
    expect(result.code).toBe(0)
    const calls = (await fleet.calls()).slice(before)
    expect(calls.map(c => c.tool)).toEqual(['deploy', 'nix', 'nix'])
    expect(calls[1]!.argv).toEqual(expect.arrayContaining(['flake', 'check', fleet.flakeDir]))
    expect(calls[2]!.argv).toEqual(expect.arrayContaining(['eval', '--json']))
  }, 15_000)

  it('reports a failed dry activation only in the output, with exit 0', async () => {
    const result = await standIn([
      '-s',
      '--dry-activate',
      sshOpts('db.lan'),
      `${fleet.flakeDir}#"db.lan".system`
    ])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('\nPre-switch checks failed\n')
    expect(result.stderr).toContain(`🚀 ℹ️ [deploy] ${INFO} Completed dry-activate!`)
    expect(await fleet.hostLog('db.lan')).toEqual([
      expect.stringMatching(/^push system /),
      'dry-activate system'
    ])
  }, 15_000)

  it('rejects an unknown flag with exit 2', async () => {
    const result = await standIn(['--no-such-flag', `${fleet.flakeDir}#web`])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^error: Found argument '--no-such-flag'/)
  })

  it('stops every sshd it started', async () => {
    const pids = fleet.hosts.flatMap(h => (h.pid === null ? [] : [h.pid]))
    expect(pids).toHaveLength(2)
    expect(pids.every(isAlive)).toBe(true)
    await fleet.stop()
    expect(pids.filter(isAlive)).toEqual([])
    expect(processesMentioning(fleet.dir)).toEqual([])
  }, 15_000)
})
