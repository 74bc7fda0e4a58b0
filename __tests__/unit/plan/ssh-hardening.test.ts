/**
 * The plan refuses what would put a host into known_hosts under other names
 * (hostnames) or weaken host-key checking (a node's sshOpts), naming the node.
 */
import { describe, expect, it, jest } from '@jest/globals'
import type { Nix } from '../../../src/commands/nix.js'
import type { Settings } from '../../../src/inputs.js'
import { parseInventory, PlanError } from '../../../src/plan/inventory.js'
import { makePlan } from '../../../src/plan/plan.js'
import { reviewSshOpts } from '../../../src/plan/ssh-opts.js'
import { sshOptionsFor, type Workspace } from '../../../src/ssh/workspace.js'

function node(hostname: string, sshOpts: string[] = []) {
  return { hostname, sshOpts, profiles: ['system'] }
}

function settings(): Settings {
  return {
    targets: 'all',
    canary: [],
    dryRun: 'auto',
    flake: '.',
    sshPrivateKey: '',
    sshKeyPassphrase: '',
    knownHosts: [],
    sshKeyscan: true,
    sshUser: null,
    sshConfig: [],
    deployRs: null,
    deployArgs: { deploy: [], nix: [] },
    skipChecks: false,
    parallel: 4,
    failFast: false,
    hostTimeoutMs: 60_000,
    keyscanTimeoutSeconds: 10,
    githubToken: '',
    prComment: 'auto',
    deployments: false,
    healthCheck: { kind: 'off' },
    healthTimeoutMs: 120_000,
    planOnly: true
  } as Settings
}

function plan(nodes: Record<string, unknown>, targets: Settings['targets'] = 'all') {
  const nix = {
    evalDeployNodes: jest.fn<Nix['evalDeployNodes']>(async () => nodes),
    flakeCheck: async () => ({ ok: true, reason: null, outputTail: [] }),
    hasDeployRsInput: async () => false
  } as unknown as Nix
  return makePlan({ ...settings(), targets }, false, nix)
}

describe('hostnames', () => {
  it.each([
    ['evil,prod.example', ','],
    ['evil prod.example', ' '],
    ['evil\tprod.example', '\t'],
    ['*.example', '*'],
    ['web?.example', '?'],
    ['[prod.example]:22', '['],
    ['[::1]', '['],
    ['!prod.example', '!'],
    ['|1|abc|def', '|'],
    ['root@prod.example', '@'],
    ['prod.example/x', '/']
  ])('%j is refused, naming the node and the character', (hostname, bad) => {
    const run = () => parseInventory({ web: node(hostname) }, '.')
    expect(run).toThrow(PlanError)
    expect(run).toThrow(`deploy.nodes."web".hostname is ${JSON.stringify(hostname)}`)
    expect(run).toThrow(`holds ${JSON.stringify(bad)}`)
  })

  it.each([
    'web.example.com',
    'WEB-1.example.com.',
    '10.0.0.5',
    'my_host',
    '::1',
    'fe80::1',
    '2001:db8::5'
  ])('%j is a host', hostname => {
    expect(parseInventory({ web: node(hostname) }, '.')[0].hostname).toBe(hostname)
  })
})

describe('reviewSshOpts', () => {
  it.each([
    [['-F', '/dev/null'], '-F /dev/null'],
    [['-F/etc/ssh/other'], '-F/etc/ssh/other'],
    [['-p', '2222', '-vF', 'x'], '-vF x'],
    [['-4vFx'], '-4vFx'],
    [['-S', '/tmp/master'], '-S /tmp/master'],
    [['-M'], '-M'],
    [['-vM'], '-vM'],
    [['-o', 'KnownHostsCommand=/bin/echo'], '-o KnownHostsCommand=/bin/echo'],
    [['-o', 'HostKeyAlias=prod'], '-o HostKeyAlias=prod'],
    [['-o', 'NoHostAuthenticationForLocalhost=yes'], '-o NoHostAuthenticationForLocalhost=yes'],
    [['-o', 'VerifyHostKeyDNS=yes'], '-o VerifyHostKeyDNS=yes'],
    [['-o', 'UpdateHostKeys=yes'], '-o UpdateHostKeys=yes'],
    [['-o', 'ControlPersist=yes'], '-o ControlPersist=yes']
  ])('%j is refused as %j', (sshOpts, option) => {
    expect(reviewSshOpts(sshOpts).refused?.option).toBe(option)
  })

  // The action's own -o options come first on the command line and ssh keeps the first value.
  it.each([
    [['-o', 'StrictHostKeyChecking=no'], ['-o StrictHostKeyChecking=no']],
    [['-o', 'stricthostkeychecking=accept-new'], ['-o stricthostkeychecking=accept-new']],
    [['-oUserKnownHostsFile=/dev/null', '-p', '22'], ['-oUserKnownHostsFile=/dev/null']],
    [['-4oGlobalKnownHostsFile=/x'], ['-4oGlobalKnownHostsFile=/x']],
    [
      ['-o', 'BatchMode=no', '-o', 'ControlMaster=auto', '-o', 'ControlPath=/tmp/m'],
      ['-o BatchMode=no', '-o ControlMaster=auto', '-o ControlPath=/tmp/m']
    ]
  ])('%j is ignored by ssh, so only reported: %j', (sshOpts, ignored) => {
    expect(reviewSshOpts(sshOpts)).toEqual({ refused: null, ignored })
  })

  it('reports as ignored only options that sshOptionsFor sets before the node options', () => {
    const workspace: Workspace = {
      dir: '/w',
      keyFiles: [],
      knownHostsFile: '/w/known_hosts',
      sshConfigFile: '/w/config',
      logsDir: '/w/logs'
    }
    const own = sshOptionsFor(workspace, ['-p', '22'])
    const ownKeywords = own
      .filter((_, i) => own[i - 1] === '-o')
      .map(option => option.split('=')[0].toLowerCase())
    const hostKeyKeywords = [
      'stricthostkeychecking',
      'userknownhostsfile',
      'globalknownhostsfile',
      'batchmode',
      'controlmaster',
      'controlpath'
    ]
    const { ignored } = reviewSshOpts(hostKeyKeywords.flatMap(keyword => ['-o', `${keyword}=x`]))
    expect(ignored).toHaveLength(hostKeyKeywords.length)
    for (const option of ignored) expect(ownKeywords).toContain(option.slice(3).split('=')[0])
    expect(own.indexOf('-p')).toBeGreaterThan(own.lastIndexOf('-o'))
  })

  it.each([
    [[]],
    [['-p', '2222']],
    [['-p2222', '-i', '/k', '-l', 'deploy']],
    [['-o', 'ProxyJump=bastion', '-J', 'jump:2200']],
    [['-oPort=2200', '-o', 'ServerAliveInterval=5', '-C', '-4', '-v']],
    // values are not flags: -i's file and -o's option may look like them
    [['-i', '-F', '-l', '-M']],
    [['-E', '-S.log', '-b', '-F']],
    [['-o', 'CheckHostIP=no', '-o', 'IdentitiesOnly=yes']]
  ])('%j is fine', sshOpts => {
    expect(reviewSshOpts(sshOpts)).toEqual({ refused: null, ignored: [] })
  })
})

describe('makePlan with such sshOpts', () => {
  it('refuses a targeted node whose sshOpts hold -F, naming the node and the option', async () => {
    const nodes = { web: node('web.example.com', ['-p', '2222', '-F', '/home/u/.ssh/config']) }
    const error = await plan(nodes).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PlanError)
    expect((error as Error).message).toMatch(
      /deploy\.nodes\."web": sshOpts "-F \/home\/u\/\.ssh\/config" cannot be used: it replaces the action's ssh config file/
    )
  })

  it('warns about -o StrictHostKeyChecking=no, which ssh ignores after the action options', async () => {
    const nodes = { db: node('db.example.com', ['-o', 'StrictHostKeyChecking=no']) }
    const { warnings } = await plan(nodes)
    expect(warnings).toEqual([
      expect.stringMatching(
        /deploy\.nodes\."db": sshOpts "-o StrictHostKeyChecking=no" has no effect/
      )
    ])
  })

  it('refuses -o HostKeyAlias, which ssh would apply', async () => {
    const nodes = { db: node('db.example.com', ['-o', 'HostKeyAlias=prod']) }
    await expect(plan(nodes)).rejects.toThrow(
      /deploy\.nodes\."db": sshOpts "-o HostKeyAlias=prod" cannot be used: it changes how host keys are checked/
    )
  })

  it('only targeted nodes are checked', async () => {
    const nodes = {
      web: node('web.example.com', ['-p', '2222']),
      old: node('old.example.com', ['-o', 'StrictHostKeyChecking=no'])
    }
    const result = await plan(nodes, ['web'])
    expect(result.nodes.map(n => n.name)).toEqual(['web'])
  })
})
