/**
 * readSettings: every input of action.yml, validated. @actions/core is mocked
 * so that the secrets handed to setSecret can be inspected.
 */
import { beforeEach, describe, expect, it, jest } from '@jest/globals'

const setSecret = jest.fn<(secret: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({
  setSecret,
  getInput: jest.fn(() => '')
}))

const { readSettings, InputError, maskSecret } = await import('../../../src/inputs.js')

const KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDc2VjcmV0LWtleS1saW5lLXR3by1vZi10aGUta2V5LW1hdGVyaWFsAAAA',
  'abc=',
  '-----END OPENSSH PRIVATE KEY-----',
  ''
].join('\n')

/** The inputs as the runner would give them when a workflow sets only these (action.yml defaults applied). */
function inputs(overrides: Record<string, string> = {}): (name: string) => string {
  const defaults: Record<string, string> = {
    targets: 'all',
    'dry-run': 'auto',
    flake: '.',
    'ssh-private-key': KEY,
    'ssh-keyscan': 'true',
    'skip-checks': 'false',
    parallel: '4',
    'fail-fast': 'false',
    'host-timeout': '30',
    'keyscan-timeout': '10',
    'github-token': 'ghs_tokenvalue1234567890',
    'pr-comment': 'auto',
    deployments: 'false',
    'health-check': 'auto',
    'health-timeout': '120',
    'plan-only': 'false'
  }
  const all = { ...defaults, ...overrides }
  return name => all[name] ?? ''
}

/** The InputError readSettings throws for these inputs. */
function inputError(overrides: Record<string, string>): InstanceType<typeof InputError> {
  try {
    readSettings(inputs(overrides))
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InstanceType<typeof InputError>
  }
  throw new Error(`readSettings accepted ${JSON.stringify(overrides)}`)
}

beforeEach(() => {
  setSecret.mockClear()
})

describe('readSettings: defaults', () => {
  it('reads the action.yml defaults into typed settings', () => {
    const settings = readSettings(inputs())
    expect(settings).toEqual({
      targets: 'all',
      canary: [],
      dryRun: 'auto',
      flake: '.',
      sshPrivateKey: KEY,
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
      hostTimeoutMs: 30 * 60_000,
      keyscanTimeoutSeconds: 10,
      githubToken: 'ghs_tokenvalue1234567890',
      prComment: 'auto',
      deployments: false,
      healthCheck: { kind: 'systemd', requireSystemctl: false },
      healthTimeoutMs: 120_000,
      planOnly: false
    })
  })

  it('treats empty inputs (no action.yml default, e.g. local runs) like the defaults', () => {
    const settings = readSettings(name => (name === 'ssh-private-key' ? KEY : ''))
    expect(settings.targets).toBe('all')
    expect(settings.dryRun).toBe('auto')
    expect(settings.flake).toBe('.')
    expect(settings.sshKeyscan).toBe(true)
    expect(settings.parallel).toBe(4)
    expect(settings.hostTimeoutMs).toBe(1_800_000)
    expect(settings.keyscanTimeoutSeconds).toBe(10)
    expect(settings.prComment).toBe('auto')
  })
})

describe('readSettings: booleans and tristates', () => {
  it.each([
    ['skip-checks', 'skipChecks', false],
    ['fail-fast', 'failFast', false],
    ['deployments', 'deployments', false],
    ['ssh-keyscan', 'sshKeyscan', true],
    ['plan-only', 'planOnly', false]
  ] as const)('%s accepts true/false in any case and with blanks', (input, field, fallback) => {
    expect(readSettings(inputs({ [input]: 'TRUE' }))[field]).toBe(true)
    expect(readSettings(inputs({ [input]: ' false\n' }))[field]).toBe(false)
    expect(readSettings(inputs({ [input]: '' }))[field]).toBe(fallback)
  })

  it.each(['skip-checks', 'fail-fast', 'deployments', 'ssh-keyscan', 'plan-only'])(
    '%s rejects yes/1 naming the input, the value and the choices',
    input => {
      const error = inputError({ [input]: 'yes' })
      expect(error.problems).toEqual([`${input}: got "yes"; expected true or false.`])
      expect(inputError({ [input]: '1' }).message).toContain(`${input}: got "1"`)
    }
  )

  it.each([
    ['dry-run', 'dryRun'],
    ['pr-comment', 'prComment']
  ] as const)('%s is auto, true or false', (input, field) => {
    expect(readSettings(inputs({ [input]: 'auto' }))[field]).toBe('auto')
    expect(readSettings(inputs({ [input]: 'Auto' }))[field]).toBe('auto')
    expect(readSettings(inputs({ [input]: 'true' }))[field]).toBe(true)
    expect(readSettings(inputs({ [input]: 'false' }))[field]).toBe(false)
    expect(readSettings(inputs({ [input]: '' }))[field]).toBe('auto')
    const error = inputError({ [input]: 'maybe' })
    expect(error.problems).toEqual([`${input}: got "maybe"; expected auto, true or false.`])
  })
})

describe('readSettings: targets', () => {
  it.each([
    ['web', ['web']],
    ['web,db', ['web', 'db']],
    ['web, db', ['web', 'db']],
    ['web db\tcache', ['web', 'db', 'cache']],
    ['web\ndb\r\ncache\n', ['web', 'db', 'cache']],
    ['  web,,db  ', ['web', 'db']],
    ['web.system', ['web.system']],
    ['"a.b".system, "c.d"', ['"a.b".system', '"c.d"']],
    ['"a b"', ['"a b"']],
    ['web,web', ['web']]
  ])('splits %j into %j', (raw, expected) => {
    expect(readSettings(inputs({ targets: raw })).targets).toEqual(expected)
  })

  it.each(['all', ' all ', '', '\n', ' , '])('%j means every node', raw => {
    expect(readSettings(inputs({ targets: raw })).targets).toBe('all')
  })

  it('rejects all mixed with node names', () => {
    expect(inputError({ targets: 'all, web' }).message).toMatch(
      /^targets: 'all' cannot be combined with node names; got "all, web"/
    )
  })

  it('rejects an unterminated quote', () => {
    expect(inputError({ targets: '"a.b.system' }).message).toMatch(/^targets: unterminated " quote/)
  })

  it('rejects control characters, including a newline inside quotes', () => {
    expect(inputError({ targets: 'web\u0007' }).message).toMatch(
      /^targets: "web\\u0007" contains a control character/
    )
    expect(inputError({ targets: '"we\nb"' }).message).toMatch(
      /^targets: .* contains a control character/
    )
  })
})

describe('readSettings: flake', () => {
  it.each([
    '.',
    './infra',
    'github:owner/repo',
    'git+https://example.com/r.git?ref=main',
    'path:/srv/flake'
  ])('accepts %s', flake => {
    expect(readSettings(inputs({ flake })).flake).toBe(flake)
  })

  it('trims blanks and defaults to .', () => {
    expect(readSettings(inputs({ flake: '  ./infra \n' })).flake).toBe('./infra')
    expect(readSettings(inputs({ flake: '   ' })).flake).toBe('.')
  })

  it.each([
    ['--impure', /^flake: "--impure" starts with '-'/],
    ['.#web', /^flake: ".#web" contains '#'; give the flake alone/],
    ['github:o/r#deploy', /^flake: .* contains '#'/],
    ['./a\n./b', /^flake: ".\/a\\n.\/b" contains a control character or newline/],
    ['./a\u0000b', /^flake: .* contains a control character/]
  ])('rejects %j', (flake, message) => {
    expect(inputError({ flake }).message).toMatch(message)
  })
})

describe('readSettings: known-hosts', () => {
  const ed = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

  it('keeps entries and drops comments and blank lines, whatever the line endings', () => {
    const raw = `# pinned\r\nweb.example.com ${ed}\r\n\r\n  [db.example.com]:2222 ${ed} comment\n@cert-authority *.example.com ${ed}\n|1|c2FsdA==|aGFzaA== ${ed}\n`
    expect(readSettings(inputs({ 'known-hosts': raw })).knownHosts).toEqual([
      `web.example.com ${ed}`,
      `[db.example.com]:2222 ${ed} comment`,
      `@cert-authority *.example.com ${ed}`,
      `|1|c2FsdA==|aGFzaA== ${ed}`
    ])
  })

  it.each([
    ['web.example.com', 'line 1'],
    [`web.example.com ${ed}\nssh-ed25519 AAAAC3`, 'line 2'],
    ['web.example.com ssh-ed25519;rm AAAA', 'line 1'],
    [`# ok\n\n@revoked ${ed}`, 'line 3']
  ])('rejects %j at %s with the expected form', (raw, line) => {
    const message = inputError({ 'known-hosts': raw }).message
    expect(message).toMatch(
      new RegExp(
        `^known-hosts: ${line} is not a known_hosts entry: .*; expected 'HOST KEYTYPE BASE64KEY'`
      )
    )
  })
})

describe('readSettings: ssh-user', () => {
  it.each(['root', 'deploy', 'ci_user', 'a.b-c', '_svc'])('accepts %s', user => {
    expect(readSettings(inputs({ 'ssh-user': ` ${user} ` })).sshUser).toBe(user)
  })

  it('is null when empty', () => {
    expect(readSettings(inputs({ 'ssh-user': '' })).sshUser).toBeNull()
  })

  it.each([
    '-oProxyCommand=x',
    'root;id',
    'root id',
    'root\nid',
    '$(id)',
    'a@b',
    'x'.repeat(65),
    'ünïcode'
  ])('rejects %j', user => {
    expect(inputError({ 'ssh-user': user }).message).toMatch(
      /^ssh-user: got .*; expected a user name of letters, digits/
    )
  })
})

describe('readSettings: ssh-config', () => {
  it('keeps keyword lines, drops comments and blanks', () => {
    const raw =
      '# jump\nProxyJump bastion.example.com\r\n\nHost web*\n  User deploy\nServerAliveInterval=30\nPort = 2222\n'
    expect(readSettings(inputs({ 'ssh-config': raw })).sshConfig).toEqual([
      'ProxyJump bastion.example.com',
      'Host web*',
      'User deploy',
      'ServerAliveInterval=30',
      'Port = 2222'
    ])
  })

  it.each([
    'StrictHostKeyChecking no',
    'stricthostkeychecking=accept-new',
    'UserKnownHostsFile /dev/null',
    'GlobalKnownHostsFile /tmp/k',
    'BatchMode no',
    'ControlMaster auto',
    'ControlPath ~/.ssh/cm-%r@%h:%p',
    'ControlPersist 10m',
    'KnownHostsCommand /bin/echo'
  ])('rejects %j, which the action controls', line => {
    const message = inputError({ 'ssh-config': `ProxyJump bastion\n  ${line}` }).message
    expect(message).toMatch(/^ssh-config: line 2 sets \w+, which the action controls/)
    expect(message).toContain(line.split(/[ =]/)[0])
  })

  it.each(['=value', 'ProxyJump', '-oProxyCommand=x', '"StrictHostKeyChecking" no'])(
    'rejects %j as not an ssh_config line',
    line => {
      expect(inputError({ 'ssh-config': line }).message).toMatch(
        /^ssh-config: line 1 is not an ssh_config line/
      )
    }
  )
})

describe('readSettings: deploy-rs', () => {
  it('splits the command into words, honouring quotes', () => {
    expect(
      readSettings(inputs({ 'deploy-rs': 'nix run github:serokell/deploy-rs --' })).deployRs
    ).toEqual(['nix', 'run', 'github:serokell/deploy-rs', '--'])
    expect(readSettings(inputs({ 'deploy-rs': '"/opt/my tools/deploy"' })).deployRs).toEqual([
      '/opt/my tools/deploy'
    ])
  })

  it('is null (auto-detect) when empty', () => {
    expect(readSettings(inputs({ 'deploy-rs': '  ' })).deployRs).toBeNull()
  })

  it.each([
    ['--version', /^deploy-rs: got "--version"; expected a command/],
    ['"deploy', /^deploy-rs: unterminated " quote in/],
    ['"" deploy', /^deploy-rs: got .*; expected a command/],
    ["''", /^deploy-rs: got .*; expected a command/]
  ])('rejects %j', (raw, message) => {
    expect(inputError({ 'deploy-rs': raw }).message).toMatch(message)
  })
})

describe('readSettings: deploy-args', () => {
  it('splits deploy-rs flags from the nix words after --', () => {
    const settings = readSettings(
      inputs({
        'deploy-args':
          '--remote-build --magic-rollback false --confirm-timeout=60 -- --option sandbox false --impure'
      })
    )
    expect(settings.deployArgs).toEqual({
      deploy: ['--remote-build', '--magic-rollback', 'false', '--confirm-timeout=60'],
      nix: ['--option', 'sandbox', 'false', '--impure']
    })
  })

  it('accepts only nix words', () => {
    expect(readSettings(inputs({ 'deploy-args': '-- --impure' })).deployArgs).toEqual({
      deploy: [],
      nix: ['--impure']
    })
  })

  it.each([
    ['--hostname evil.example.com', 'deploy-args: --hostname is set by the action'],
    ['--hostname=evil', 'deploy-args: --hostname is set by the action'],
    ['--ssh-opts "-p 2222"', 'deploy-args: --ssh-opts is set by the action; use ssh-config'],
    ['--ssh-opts=-oProxyCommand=x', 'deploy-args: --ssh-opts is set by the action'],
    ['--targets .#a .#b', 'deploy-args: --targets is set by the action; use targets'],
    ['--dry-activate', 'deploy-args: --dry-activate is set by the action; use dry-run'],
    ['-s', 'deploy-args: -s is set by the action; use skip-checks'],
    ['--skip-checks', 'deploy-args: --skip-checks is set by the action; use skip-checks'],
    ['--ssh-user root', 'deploy-args: --ssh-user is set by the action; use ssh-user'],
    ['-i', 'deploy-args: -i is set by the action'],
    ['--interactive', 'deploy-args: --interactive is set by the action'],
    ['.#web', 'deploy-args: ".#web" is not an option'],
    ['--remote-build web', 'deploy-args: "web" is not an option'],
    ['--magic-rollback', 'deploy-args: --magic-rollback needs a value'],
    ['--magic-rollback no', 'deploy-args: --magic-rollback takes true or false; got "no"'],
    ['--magic-rollback=no', 'deploy-args: --magic-rollback takes true or false; got "no"'],
    ['--confirm-timeout -s', 'deploy-args: --confirm-timeout needs a value; got the option "-s"'],
    ['--result-path --hostname', 'deploy-args: --result-path needs a value; got the option'],
    ['--log-dir', 'deploy-args: --log-dir needs a value (e.g. --log-dir VALUE)'],
    [
      '--confirm-timeout soon',
      'deploy-args: --confirm-timeout takes whole seconds from 0 to 65535'
    ],
    ['--activation-timeout=65536', 'deploy-args: --activation-timeout takes whole seconds'],
    ['--temp-path=', 'deploy-args: --temp-path needs a value'],
    ['--remote-build "unterminated', 'deploy-args: unterminated " quote']
  ])('rejects %j', (raw, message) => {
    expect(inputError({ 'deploy-args': raw }).message).toContain(message)
  })

  it('lets flags with a value take any next word that is not an option', () => {
    expect(
      readSettings(inputs({ 'deploy-args': '--profile-user deploy --log-dir /tmp/logs' }))
        .deployArgs.deploy
    ).toEqual(['--profile-user', 'deploy', '--log-dir', '/tmp/logs'])
    expect(
      readSettings(
        inputs({ 'deploy-args': '--confirm-timeout 65535 --activation-timeout=0 -r ./out' })
      ).deployArgs.deploy
    ).toEqual(['--confirm-timeout', '65535', '--activation-timeout=0', '-r', './out'])
  })
})

describe('readSettings: numbers', () => {
  it.each([
    ['1', 1],
    ['4', 4],
    [' 16 ', 16],
    ['256', 256],
    ['007', 7]
  ])('parallel %j is %d', (raw, expected) => {
    expect(readSettings(inputs({ parallel: raw })).parallel).toBe(expected)
  })

  it.each(['0', '257', '-1', '2.5', 'four', '1e2', '0x10', '4 hosts'])(
    'parallel rejects %j',
    raw => {
      expect(inputError({ parallel: raw }).message).toMatch(
        /^parallel: got ".*"; expected a whole number from 1 to 256\.$/
      )
    }
  )

  it.each([
    ['30', 1_800_000],
    ['0.5', 30_000],
    ['.5', 30_000],
    ['1440', 86_400_000],
    ['0.01', 600]
  ])('host-timeout %j minutes is %d ms', (raw, expected) => {
    expect(readSettings(inputs({ 'host-timeout': raw })).hostTimeoutMs).toBe(expected)
  })

  it.each(['0', '0.0', '-5', '1441', 'abc', '5.', '1e3', 'Infinity', 'NaN', '30m'])(
    'host-timeout rejects %j',
    raw => {
      expect(inputError({ 'host-timeout': raw }).message).toMatch(
        /^host-timeout: got ".*"; expected minutes greater than 0/
      )
    }
  )

  it('host-timeout never rounds a positive value down to 0 ms (no timeout or an instant one)', () => {
    const ms = readSettings(inputs({ 'host-timeout': '0.000001' })).hostTimeoutMs
    expect(ms).toBeGreaterThan(0)
  })

  it.each([
    ['1', 1],
    ['10', 10],
    ['300', 300]
  ])('keyscan-timeout %j is %d s', (raw, expected) => {
    expect(readSettings(inputs({ 'keyscan-timeout': raw })).keyscanTimeoutSeconds).toBe(expected)
  })

  it.each(['0', '301', '1.5', '-1', 'ten'])('keyscan-timeout rejects %j', raw => {
    expect(inputError({ 'keyscan-timeout': raw }).message).toMatch(
      /^keyscan-timeout: got ".*"; expected whole seconds from 1 to 300\.$/
    )
  })
})

describe('readSettings: the private key', () => {
  it('requires a key unless plan-only', () => {
    expect(inputError({ 'ssh-private-key': '' }).message).toMatch(/^ssh-private-key: no key given/)
    expect(inputError({ 'ssh-private-key': ' \n ' }).message).toMatch(
      /^ssh-private-key: no key given/
    )
    expect(readSettings(inputs({ 'ssh-private-key': '', 'plan-only': 'true' })).planOnly).toBe(true)
  })

  it('still requires the key when plan-only itself is invalid', () => {
    const error = inputError({ 'ssh-private-key': '', 'plan-only': 'yes' })
    expect(error.problems.map(problem => problem.split(':')[0])).toEqual([
      'plan-only',
      'ssh-private-key'
    ])
  })
})

describe('readSettings: every problem at once', () => {
  it('collects one problem per bad input, each naming its input', () => {
    const error = inputError({
      parallel: '0',
      'dry-run': 'sometimes',
      flake: '-x',
      'ssh-user': 'root;id'
    })
    expect(error.problems.map(problem => problem.split(':')[0]).sort()).toEqual([
      'dry-run',
      'flake',
      'parallel',
      'ssh-user'
    ])
    expect(error.message).toMatch(/^4 inputs are invalid:\n- /)
    for (const problem of error.problems) expect(error.message).toContain(`- ${problem}`)
    expect(error.name).toBe('InputError')
  })

  it('a single problem is the whole message', () => {
    const error = inputError({ parallel: 'x' })
    expect(error.message).toBe(error.problems[0])
  })

  it('shortens long values in messages', () => {
    const message = inputError({ parallel: '9'.repeat(500) }).message
    expect(message).toContain('…')
    expect(message.length).toBeLessThan(200)
  })
})

describe('readSettings: secrets', () => {
  const passphrase = 'correct horse battery staple'
  const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'

  it('masks the key (whole and each key line), the passphrase and the token', () => {
    readSettings(
      inputs({
        'ssh-private-key': KEY.replace(/\n/g, '\r\n'),
        'ssh-key-passphrase': passphrase,
        'github-token': token
      })
    )
    const masked = setSecret.mock.calls.map(([secret]) => secret)
    expect(masked).toContain(KEY.replace(/\n/g, '\r\n'))
    for (const line of KEY.split('\n').slice(1, 3)) expect(masked).toContain(line)
    expect(masked).toContain(passphrase)
    expect(masked).toContain(token)
    // Armor lines are public text: masking them would blank harmless log lines.
    expect(masked).not.toContain('-----BEGIN OPENSSH PRIVATE KEY-----')
    expect(masked).not.toContain('-----END OPENSSH PRIVATE KEY-----')
  })

  it('masks the secrets before validating, so they are masked even when other inputs fail', () => {
    expect(() =>
      readSettings(inputs({ 'ssh-key-passphrase': passphrase, parallel: 'nope' }))
    ).toThrow(InputError)
    expect(setSecret.mock.calls.map(([secret]) => secret)).toContain(passphrase)
  })

  it('masks nothing for empty secrets (an empty mask would hide nothing useful)', () => {
    readSettings(inputs({ 'github-token': '', 'ssh-key-passphrase': '  ' }))
    expect(setSecret.mock.calls.map(([secret]) => secret)).toEqual([
      KEY,
      ...KEY.split('\n').slice(1, 4)
    ])
  })

  it('never quotes a secret in an error message', () => {
    const error = inputError({
      'ssh-key-passphrase': passphrase,
      'github-token': token,
      parallel: passphrase,
      'dry-run': 'x',
      targets: 'all web'
    })
    expect(error.message).not.toContain(KEY.split('\n')[1])
    expect(error.message).not.toContain(token)
    // The passphrase shows only because it was typed into another input, which is the user's doing.
    expect(
      error.problems
        .filter(problem => problem.includes(passphrase))
        .map(problem => problem.split(':')[0])
    ).toEqual(['parallel'])
  })

  it('maskSecret masks a one-line secret once', () => {
    maskSecret('one-line-secret')
    expect(setSecret.mock.calls).toEqual([['one-line-secret']])
  })
})
