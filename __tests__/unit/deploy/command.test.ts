import { describe, expect, it } from '@jest/globals'
import { deployArgv, flakeTarget, type DeployCommandOptions } from '../../../src/deploy/command.js'
import type { PlannedNode } from '../../../src/plan/targets.js'

function node(overrides: Partial<PlannedNode> = {}): PlannedNode {
  return {
    name: 'web',
    hostname: 'web.example.com',
    sshUser: null,
    sshOpts: [],
    profiles: ['system'],
    port: 22,
    targetProfiles: ['system'],
    wholeNode: true,
    ...overrides
  }
}

const SSH_OPTS = [
  '-F',
  '/tmp/deploy-rs-action-1/ssh_config',
  '-o',
  'StrictHostKeyChecking=yes',
  '-p',
  '2222'
]

function options(overrides: Partial<DeployCommandOptions> = {}): DeployCommandOptions {
  return {
    deployRs: ['deploy'],
    deployArgs: { deploy: [], nix: [] },
    flake: '.',
    dryRun: false,
    sshUser: null,
    sshOpts: SSH_OPTS,
    ...overrides
  }
}

describe('deployArgv', () => {
  it('a whole node: one positional target, checks skipped, ssh options as one word', () => {
    expect(deployArgv(node(), options())).toEqual([
      'deploy',
      '--skip-checks',
      '--ssh-opts=-F /tmp/deploy-rs-action-1/ssh_config -o StrictHostKeyChecking=yes -p 2222',
      '.#web'
    ])
  })

  it('always skips checks (they ran once for the whole run)', () => {
    for (const dryRun of [true, false]) {
      expect(
        deployArgv(node(), options({ dryRun })).filter(word => word === '--skip-checks')
      ).toHaveLength(1)
    }
  })

  it('a dry run adds --dry-activate and --rollback-succeeded false', () => {
    const argv = deployArgv(node(), options({ dryRun: true }))
    expect(argv).toContain('--dry-activate')
    const at = argv.indexOf('--rollback-succeeded')
    expect(at).toBeGreaterThan(0)
    expect(argv[at + 1]).toBe('false')
    expect(deployArgv(node(), options({ dryRun: false }))).not.toContain('--dry-activate')
    expect(deployArgv(node(), options({ dryRun: false }))).not.toContain('--rollback-succeeded')
  })

  it('passes --ssh-user when set', () => {
    const argv = deployArgv(node(), options({ sshUser: 'deploy' }))
    expect(argv[argv.indexOf('--ssh-user') + 1]).toBe('deploy')
    expect(deployArgv(node(), options())).not.toContain('--ssh-user')
  })

  it('--ssh-opts is exactly one word with the options joined by single spaces', () => {
    const argv = deployArgv(node(), options({ sshOpts: ['-o', 'ProxyJump=bastion', '-i', '/k'] }))
    const words = argv.filter(word => word.startsWith('--ssh-opts'))
    expect(words).toEqual(['--ssh-opts=-o ProxyJump=bastion -i /k'])
  })

  it('one profile of a node: one positional node.profile target', () => {
    const argv = deployArgv(
      node({ profiles: ['system', 'app'], targetProfiles: ['app'], wholeNode: false }),
      options()
    )
    expect(argv.at(-1)).toBe('.#web.app')
    expect(argv).not.toContain('--targets')
  })

  it('several profiles of a node: --targets with one node.profile each, in deploy order', () => {
    const argv = deployArgv(
      node({ profiles: ['system', 'app'], targetProfiles: ['system', 'app'], wholeNode: false }),
      options({ flake: 'github:o/r' })
    )
    expect(argv.slice(argv.indexOf('--targets'))).toEqual([
      '--targets',
      'github:o/r#web.system',
      'github:o/r#web.app'
    ])
  })

  it('quotes dotted node and profile names as deploy-rs expects', () => {
    expect(deployArgv(node({ name: 'a.b' }), options()).at(-1)).toBe('.#"a.b"')
    expect(
      deployArgv(node({ name: 'a.b', targetProfiles: ['system'], wholeNode: false }), options()).at(
        -1
      )
    ).toBe('.#"a.b".system')
    expect(
      deployArgv(
        node({ name: 'web', profiles: ['x.y'], targetProfiles: ['x.y'], wholeNode: false }),
        options()
      ).at(-1)
    ).toBe('.#web."x.y"')
  })

  it('puts the user deploy flags before the action flags and the nix words after --', () => {
    const argv = deployArgv(
      node(),
      options({
        deployRs: ['nix', 'run', 'github:serokell/deploy-rs', '--'],
        deployArgs: {
          deploy: ['--remote-build', '--magic-rollback', 'false'],
          nix: ['--impure', '--option', 'sandbox', 'false']
        },
        dryRun: true,
        sshUser: 'root'
      })
    )
    expect(argv).toEqual([
      'nix',
      'run',
      'github:serokell/deploy-rs',
      '--',
      '--remote-build',
      '--magic-rollback',
      'false',
      '--skip-checks',
      '--dry-activate',
      '--rollback-succeeded',
      'false',
      '--ssh-user',
      'root',
      `--ssh-opts=${SSH_OPTS.join(' ')}`,
      '.#web',
      '--',
      '--impure',
      '--option',
      'sandbox',
      'false'
    ])
  })

  it('nix words after the --targets list, behind their own --', () => {
    const argv = deployArgv(
      node({ profiles: ['a', 'b'], targetProfiles: ['a', 'b'], wholeNode: false }),
      options({ deployArgs: { deploy: [], nix: ['--impure'] } })
    )
    expect(argv.slice(-5)).toEqual(['--targets', '.#web.a', '.#web.b', '--', '--impure'])
  })

  it('no trailing -- without nix words', () => {
    expect(
      deployArgv(node(), options({ deployRs: ['deploy'] })).filter(word => word === '--')
    ).toHaveLength(0)
  })

  it('option-like node names can only ever be FLAKE#… words', () => {
    for (const name of [
      '--hostname=evil',
      '-oProxyCommand=touch /tmp/x',
      '-s',
      '--',
      '$(id)',
      'a;b'
    ]) {
      const argv = deployArgv(node({ name }), options())
      const target = argv.at(-1) as string
      expect(target.startsWith('.#')).toBe(true)
      expect(argv.filter(word => word === name)).toHaveLength(0)
    }
  })
})

describe('flakeTarget', () => {
  it.each([
    ['.', 'web', undefined, '.#web'],
    ['.', 'web', 'system', '.#web.system'],
    ['github:o/r', 'web-1', 'system', 'github:o/r#web-1.system'],
    ['.', 'web_1', undefined, '.#web_1'],
    ['.', "web'", undefined, ".#web'"],
    ['.', 'a.b', undefined, '.#"a.b"'],
    ['.', 'a.b', 'c.d', '.#"a.b"."c.d"'],
    ['.', 'web 1', undefined, '.#"web 1"'],
    ['.', '--hostname=evil', undefined, '.#"--hostname=evil"'],
    ['./infra', 'wéb', 'system', './infra#"wéb".system']
  ])('%s %s %s → %s', (flake, name, profile, expected) => {
    expect(flakeTarget(flake, name, profile)).toBe(expected)
  })
})
