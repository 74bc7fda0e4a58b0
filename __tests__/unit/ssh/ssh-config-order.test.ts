/**
 * The action's ssh config against a hostile ssh-config input, read by the real
 * ssh (`ssh -G` prints what ssh would use): the host-key protections hold for
 * the node's connection and for a jump host's (the ssh that ProxyJump starts
 * gets `-F <config>` but none of the -o options).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  sshOptionsFor,
  WorkspaceError,
  writeSshConfig,
  type Workspace
} from '../../../src/ssh/workspace.js'

let dir: string
let workspace: Workspace
let evilInclude: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssh-config-order-'))
  workspace = {
    dir,
    keyFiles: [join(dir, 'key-1')],
    knownHostsFile: join(dir, 'known_hosts'),
    sshConfigFile: join(dir, 'ssh_config'),
    logsDir: join(dir, 'logs')
  }
  evilInclude = join(dir, 'evil.conf')
  writeFileSync(
    evilInclude,
    [
      'StrictHostKeyChecking no',
      'UserKnownHostsFile /dev/null',
      'GlobalKnownHostsFile /etc/ssh/ssh_known_hosts',
      'KnownHostsCommand /bin/echo',
      'NoHostAuthenticationForLocalhost yes',
      'VerifyHostKeyDNS yes',
      'UpdateHostKeys yes',
      'BatchMode no',
      'ControlMaster auto',
      'ControlPath /tmp/shared-%C',
      ''
    ].join('\n')
  )
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What ssh would use to connect to host with these arguments, option name → value. */
function resolved(args: readonly string[], host: string): Map<string, string> {
  const text = execFileSync('ssh', ['-G', ...args, host], {
    stdio: ['ignore', 'pipe', 'pipe']
  }).toString()
  return new Map(
    text
      .trim()
      .split('\n')
      .map(line => {
        const space = line.indexOf(' ')
        return [line.slice(0, space), line.slice(space + 1)] as [string, string]
      })
  )
}

function expectProtected(config: Map<string, string>): void {
  expect(config.get('stricthostkeychecking')).toBe('true')
  expect(config.get('userknownhostsfile')).toBe(workspace.knownHostsFile)
  expect(config.get('globalknownhostsfile')).toBe('/dev/null')
  expect(config.has('knownhostscommand')).toBe(false)
  expect(config.get('nohostauthenticationforlocalhost')).toBe('no')
  expect(config.get('verifyhostkeydns')).toBe('false')
  expect(config.get('updatehostkeys')).toBe('false')
  expect(config.get('batchmode')).toBe('yes')
  expect(config.get('controlmaster')).toBe('false')
  // ControlPath none: ssh -G prints no controlpath at all.
  expect(config.has('controlpath')).toBe(false)
}

const hostileInputs: Record<string, (include: string) => string[]> = {
  'a top-level Include': include => [`Include ${include}`],
  'an Include in a Host * block': include => ['Host *', `  Include ${include}`],
  'an Include in a Match all block': include => ['Match all', `  Include ${include}`],
  'an Include in the jump host block': include => [
    'Host web.example.com',
    '  ProxyJump jump@bastion.example.com:2200',
    'Host bastion.example.com',
    `  Include ${include}`
  ]
}

describe('the action config read by the real ssh, with a hostile ssh-config input', () => {
  it.each(Object.keys(hostileInputs))(
    '%s cannot weaken the node connection or the jump host connection',
    async name => {
      await writeSshConfig(workspace, [
        ...hostileInputs[name](evilInclude),
        'Host web.example.com',
        '  ProxyJump jump@bastion.example.com:2200'
      ])
      // The node: deploy-rs's ssh, with the action's -o options.
      const node = resolved(sshOptionsFor(workspace, ['-p', '2222']), 'web.example.com')
      expectProtected(node)
      expect(node.get('proxyjump')).toBe('jump@bastion.example.com:2200')
      // The jump host: ProxyJump runs `ssh -l jump -p 2200 -F <config> -W ... bastion.example.com`.
      const jump = resolved(
        ['-l', 'jump', '-p', '2200', '-F', workspace.sshConfigFile],
        'bastion.example.com'
      )
      expectProtected(jump)
    }
  )

  it('the user lines still apply: ProxyJump, User, Port, and the defaults they override', async () => {
    await writeSshConfig(workspace, [
      'ConnectTimeout 7',
      'Host web.example.com',
      '  User deploy',
      '  Port 2201',
      '  ProxyJump bastion.example.com'
    ])
    const config = resolved(['-F', workspace.sshConfigFile], 'web.example.com')
    expect(config.get('user')).toBe('deploy')
    expect(config.get('port')).toBe('2201')
    expect(config.get('proxyjump')).toBe('bastion.example.com')
    expect(config.get('connecttimeout')).toBe('7')
    expect(config.get('identityfile')).toBe(workspace.keyFiles[0])
    expectProtected(config)
  })

  it("keeps the user's IgnoreUnknown (ssh keeps the first, and the action sets one)", async () => {
    await writeSshConfig(workspace, [
      'IgnoreUnknown UseKeychain,AddKeysToAgentX',
      'UseKeychain yes'
    ])
    // Without the merge ssh would stop at the unknown UseKeychain.
    const config = resolved(['-F', workspace.sshConfigFile], 'web.example.com')
    expect(config.get('ignoreunknown')).toBe('KnownHostsCommand,UseKeychain,AddKeysToAgentX')
  })

  it('refuses HostKeyAlias, which would check a host against another name and cannot be unset', async () => {
    for (const line of ['HostKeyAlias prod.example.com', 'hostkeyalias=prod', '  HOSTKEYALIAS x']) {
      await expect(writeSshConfig(workspace, ['Host web', line])).rejects.toThrow(WorkspaceError)
      await expect(writeSshConfig(workspace, [line])).rejects.toThrow(/HostKeyAlias cannot be used/)
    }
  })
})

describe('why the plan refuses such sshOpts (real ssh)', () => {
  beforeAll(async () => {
    await writeSshConfig(workspace, [])
  })

  it('a second -F replaces the action config: nothing of it applies', () => {
    const config = resolved(sshOptionsFor(workspace, ['-F', '/dev/null']), 'web.example.com')
    // The command line's own -o options still hold for this connection...
    expect(config.get('stricthostkeychecking')).toBe('true')
    // ...but a jump host gets only the last -F, and the action's identity and defaults are gone.
    expect(config.get('identityfile')).not.toBe(workspace.keyFiles[0])
    const jump = resolved(['-F', '/dev/null'], 'bastion.example.com')
    expect(jump.get('stricthostkeychecking')).not.toBe('true')
  })

  it.each([
    ['HostKeyAlias=other.example.com', 'hostkeyalias', 'other.example.com'],
    ['NoHostAuthenticationForLocalhost=yes', 'nohostauthenticationforlocalhost', 'yes'],
    ['VerifyHostKeyDNS=yes', 'verifyhostkeydns', 'true'],
    ['UpdateHostKeys=yes', 'updatehostkeys', 'true']
  ])('-o %s on the command line beats the config file', (option, name, value) => {
    const config = resolved(sshOptionsFor(workspace, ['-o', option]), 'web.example.com')
    expect(config.get(name)).toBe(value)
  })

  it('-S and -M beat -o ControlPath=none / ControlMaster=no', () => {
    const config = resolved(
      sshOptionsFor(workspace, ['-M', '-S', join(dir, 'master')]),
      'web.example.com'
    )
    expect(config.get('controlmaster')).toBe('true')
    expect(config.get('controlpath')).toBe(join(dir, 'master'))
  })
})
