/**
 * Host-key trust end to end, against real sshd hosts: an ssh-config input
 * that includes a file turning checking off cannot weaken a jump host's
 * check; a node's sshOpts cannot swap the action's config file; hostnames
 * that are lists or patterns are refused; a pin written `[host]:22` pins a
 * host on port 22 (real sshd on port 22); pins that match no node are named.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startFleet, type Fleet, type FleetHost } from '../../test-support/fleet/index.js'
import { canBind, type PortPicker } from '../../test-support/fleet/ports.js'
import { startSshdHost, type SshdHost } from '../../test-support/fleet/sshd-host.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { runOnFleet, statuses, visibleText } from '../../test-support/action/fleet-run.js'

let fleet: Fleet
let web: FleetHost
let cache: FleetHost
/** A second sshd playing `web` on port 22, on an address no other fleet uses for 22. */
let port22: { address: string; sshd: SshdHost } | null = null
let evilConf: string

beforeAll(async () => {
  fleet = await startFleet({ nodes: [{ name: 'web' }, { name: 'cache' }] })
  web = fleet.host('web')
  cache = fleet.host('cache')
  evilConf = join(fleet.dir, 'evil.conf')
  await writeFile(
    evilConf,
    [
      'StrictHostKeyChecking no',
      'UserKnownHostsFile /dev/null',
      'Host *',
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      'Match all',
      '  StrictHostKeyChecking no',
      ''
    ].join('\n')
  )
  for (let octet = 250; octet > 230 && port22 === null; octet--) {
    const address = `127.0.0.${octet}`
    if (!(await canBind(address, 22))) continue
    const stateDir = join(fleet.dir, 'hosts', 'web-port22')
    await mkdir(stateDir, { recursive: true })
    if (fleet.loginUser !== 'root') {
      const owner = await stat(join(fleet.dir, 'hosts', 'web'))
      await chown(stateDir, owner.uid, owner.gid)
    }
    const sshd = await startSshdHost({
      address,
      ports: { pick: async () => 22 } as unknown as PortPicker,
      configDir: join(fleet.dir, 'sshd', 'port22'),
      stateDir,
      authorizedKeysPath: join(fleet.dir, 'authorized_keys'),
      allowUsers: fleet.loginUser === 'root' ? ['root'] : [fleet.loginUser, 'root']
    }).catch(() => null)
    if (sshd) port22 = { address, sshd }
  }
}, 60_000)

afterAll(async () => {
  await port22?.sshd.stop()
  await fleet?.stop()
  await removeRunDirs()
})

/** A copy of the fleet's flake with its text changed; returns the new flake's directory. */
async function flakeWith(name: string, change: (text: string) => string): Promise<string> {
  const text = await readFile(join(fleet.flakeDir, 'flake.nix'), 'utf8')
  const changed = change(text)
  expect(changed).not.toBe(text)
  const dir = join(fleet.dir, `flake-${name}`)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'flake.nix'), changed)
  return dir
}

const keyOf = (host: FleetHost): string => String(host.hostKeyLine).split(' ').slice(1).join(' ')
const proxyJump = () =>
  `Include ${evilConf}\nHost ${cache.address}\n  ProxyJump ${fleet.loginUser}@${web.address}:${web.port}`

describe('ssh-config cannot weaken host-key checking', () => {
  it('a jump host whose key is not pinned is refused, though an included file turns checking off', async () => {
    const before = (await fleet.hostLog('cache')).length
    const run = await runOnFleet(fleet, {
      inputs: {
        targets: 'cache',
        'ssh-keyscan': 'false',
        'known-hosts': String(cache.hostKeyLine),
        'ssh-config': proxyJump()
      }
    })
    expect(run.main.code).toBe(1)
    expect(run.results[0]).toMatchObject({ node: 'cache', status: 'unreachable', stage: 'push' })
    expect(visibleText(run)).toMatch(/Host key verification failed|host key/i)
    expect((await fleet.hostLog('cache')).length).toBe(before)
  }, 60_000)

  it('the same config deploys once the jump host is pinned; its pin is named as matching no node', async () => {
    const run = await runOnFleet(fleet, {
      inputs: {
        targets: 'cache',
        'ssh-keyscan': 'false',
        'known-hosts': [cache.hostKeyLine, web.hostKeyLine].join('\n'),
        'ssh-config': proxyJump()
      }
    })
    expect(statuses(run)).toEqual({ cache: 'deployed' })
    const warnings = run.commands.filter(c => c.command === 'warning').map(c => c.value)
    expect(warnings).toContainEqual(
      expect.stringContaining(
        `known-hosts: the pin for [${web.address}]:${web.port} matches no targeted node`
      )
    )
    for (const warning of warnings) expect(warning).not.toContain(keyOf(web).split(' ')[1])
  }, 60_000)
})

describe("a node's sshOpts and hostname", () => {
  it('sshOpts with -F (which would replace the action config file) is a plan error naming the node', async () => {
    const flake = await flakeWith('dash-f', text =>
      text.replace(`"-p" "${cache.port}"`, `"-p" "${cache.port}" "-F" "/dev/null"`)
    )
    const before = (await fleet.hostLog('cache')).length
    const run = await runOnFleet(fleet, { inputs: { flake, targets: 'cache' } })
    expect(run.main.code).toBe(1)
    expect(visibleText(run)).toContain(
      `deploy.nodes."cache": sshOpts "-F /dev/null" cannot be used`
    )
    expect((await fleet.hostLog('cache')).length).toBe(before)
  }, 60_000)

  it('sshOpts -o StrictHostKeyChecking=no has no effect: a warning names the node, and a wrong pin still fails the host', async () => {
    const flake = await flakeWith('strict-no', text =>
      text.replace(
        `"-p" "${cache.port}"`,
        `"-p" "${cache.port}" "-oStrictHostKeyChecking=no" "-o" "UserKnownHostsFile=/dev/null"`
      )
    )
    // web's key pinned under cache's name: only a strictly checking ssh refuses it.
    const wrongPin = `[${cache.address}]:${cache.port} ${keyOf(web)}`
    const run = await runOnFleet(fleet, {
      inputs: { flake, targets: 'cache', 'ssh-keyscan': 'false', 'known-hosts': wrongPin }
    })
    expect(statuses(run)).toEqual({ cache: 'unreachable' })
    const warnings = run.commands.filter(c => c.command === 'warning').map(c => c.value)
    expect(warnings).toContainEqual(
      expect.stringMatching(/"cache": sshOpts "-oStrictHostKeyChecking=no" has no effect/)
    )
    expect(warnings).toContainEqual(
      expect.stringMatching(/"cache": sshOpts "-o UserKnownHostsFile=\/dev\/null" has no effect/)
    )
  }, 60_000)

  it('a hostname that is a list of hosts is a plan error naming the node; nothing is scanned', async () => {
    const flake = await flakeWith('comma', text =>
      text.replace(`"${web.address}"`, `"${cache.address},${web.address}"`)
    )
    const run = await runOnFleet(fleet, { inputs: { flake, targets: 'web' } })
    expect(run.main.code).toBe(1)
    const text = visibleText(run)
    expect(text).toMatch(/deploy\.nodes\."web"\.hostname is/)
    expect(text).toContain(`hostname is "${cache.address},${web.address}", which holds ","`)
    expect(text).not.toMatch(/trust on first use/)
  }, 60_000)
})

describe('pins', () => {
  it('a pin written [host]:22 pins a host on port 22: no scan needed, and ssh accepts it', async () => {
    if (port22 === null) throw new Error('no loopback address free for an sshd on port 22')
    const { address, sshd } = port22
    const flake = await flakeWith('port22', text =>
      text.replace(`"${web.address}"`, `"${address}"`).replace(`"-p" "${web.port}"`, `"-p" "22"`)
    )
    const key = sshd.hostKeyLine.split(' ').slice(1).join(' ')
    const run = await runOnFleet(fleet, {
      inputs: {
        flake,
        targets: 'web',
        'ssh-keyscan': 'false',
        'known-hosts': `[${address}]:22 ${key}\nunused.example.org ${keyOf(cache)}`
      }
    })
    expect(run.main.stdout).toContain(`${address}: host key pinned by known-hosts`)
    expect(statuses(run)).toEqual({ web: 'deployed' })
    const warnings = run.commands.filter(c => c.command === 'warning').map(c => c.value)
    expect(warnings).toContainEqual(
      expect.stringContaining(
        'known-hosts: the pin for unused.example.org matches no targeted node'
      )
    )
  }, 60_000)
})
