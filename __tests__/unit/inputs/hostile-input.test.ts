/**
 * Issue "hostile input": whatever strings a workflow passes, the input parser
 * either returns well-typed settings or throws an InputError naming the
 * input; hostile values never reach deploy-rs as options or shell text.
 */
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { fc, runs } from '../../../test-support/property/fast-check.js'

const setSecret = jest.fn<(secret: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({
  setSecret,
  getInput: jest.fn(() => '')
}))

const { readSettings, InputError } = await import('../../../src/inputs.js')
type Settings = ReturnType<typeof readSettings>
const { resolveTargets } = await import('../../../src/plan/targets.js')
const { PlanError, parseInventory } = await import('../../../src/plan/inventory.js')
const { deployArgv } = await import('../../../src/deploy/command.js')

const INPUT_NAMES = [
  'targets',
  'dry-run',
  'flake',
  'ssh-private-key',
  'ssh-key-passphrase',
  'known-hosts',
  'ssh-keyscan',
  'ssh-user',
  'ssh-config',
  'deploy-rs',
  'deploy-args',
  'skip-checks',
  'parallel',
  'fail-fast',
  'host-timeout',
  'keyscan-timeout',
  'github-token',
  'pr-comment',
  'deployments',
  'plan-only'
] as const

const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n'
const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

/** Pieces that look like the real thing, so the generator also reaches the accepting paths. */
const TOKENS = [
  'all',
  'auto',
  'true',
  'false',
  'TRUE',
  '0',
  '1',
  '4',
  '256',
  '257',
  '0.5',
  '.5',
  '0.000001',
  '30',
  '1440',
  '1e3',
  '-1',
  '""',
  "''",
  '.',
  './infra',
  'github:o/r',
  '#',
  '-',
  '--',
  '--hostname',
  '--hostname=evil',
  '--ssh-opts',
  '--targets',
  '-s',
  '--remote-build',
  '--magic-rollback',
  '--confirm-timeout',
  'web',
  'db',
  'web.system',
  '"a.b".system',
  '"',
  "'",
  '\\',
  ',',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\u007f',
  '\u2028',
  '\u00a0',
  'é',
  '🚀',
  '$(id)',
  '`id`',
  ';',
  '|',
  '&&',
  '../../etc',
  '-oProxyCommand=touch /tmp/x',
  'root',
  'root;id',
  'ProxyJump bastion',
  'StrictHostKeyChecking no',
  'Port=2222',
  '@revoked',
  '@cert-authority',
  '[web]:2222',
  ED,
  KEY,
  '|1|c2FsdA==|aGFzaA=='
]

const value = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...TOKENS) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 8 })), {
        maxLength: 6
      })
      .map(parts => parts.join(''))
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom(...TOKENS), { maxLength: 5 })
      .chain(parts => fc.constantFrom(' ', ',', '\n').map(sep => parts.join(sep)))
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) }
)

/** Every input absent, empty, valid-looking or hostile; mostly harmless, so that whole runs also pass. */
const inputsArbitrary = fc.record(
  Object.fromEntries(
    INPUT_NAMES.map(name => [
      name,
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(name === 'ssh-private-key' ? KEY : '') },
        { weight: 1, arbitrary: value }
      )
    ])
  ) as Record<(typeof INPUT_NAMES)[number], fc.Arbitrary<string>>,
  { requiredKeys: [] }
)

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
const MANAGED = [
  '--targets',
  '--dry-activate',
  '--skip-checks',
  '-s',
  '--ssh-user',
  '--ssh-opts',
  '--hostname',
  '--interactive',
  '-i'
]
const PROTECTED = [
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'batchmode',
  'controlmaster',
  'controlpath',
  'controlpersist',
  'knownhostscommand'
]

const isTristate = (v: unknown): boolean => v === true || v === false || v === 'auto'
const isWhole = (v: number, min: number, max: number): boolean =>
  Number.isInteger(v) && v >= min && v <= max

/** The documented types and ranges of every field (throws with the field name when one is off). */
function checkSettings(settings: Settings, given: Partial<Record<string, string>>): void {
  const check = (ok: boolean, field: string): void => {
    if (!ok)
      throw new Error(
        `${field} out of range: ${JSON.stringify((settings as unknown as Record<string, unknown>)[field])}`
      )
  }
  check(
    settings.targets === 'all' ||
      (Array.isArray(settings.targets) &&
        settings.targets.length > 0 &&
        new Set(settings.targets).size === settings.targets.length &&
        settings.targets.every(
          t =>
            typeof t === 'string' &&
            t !== '' &&
            t !== 'all' &&
            !CONTROL.test(t) &&
            !/^[\s,]|[\s,]$/.test(t)
        )),
    'targets'
  )
  check(isTristate(settings.dryRun), 'dryRun')
  check(isTristate(settings.prComment), 'prComment')
  check(
    typeof settings.flake === 'string' &&
      settings.flake !== '' &&
      settings.flake === settings.flake.trim() &&
      !settings.flake.startsWith('-') &&
      !settings.flake.includes('#') &&
      !CONTROL.test(settings.flake),
    'flake'
  )
  check(settings.sshPrivateKey === (given['ssh-private-key'] ?? ''), 'sshPrivateKey')
  check(settings.planOnly || settings.sshPrivateKey.trim() !== '', 'sshPrivateKey')
  check(settings.sshKeyPassphrase === (given['ssh-key-passphrase'] ?? ''), 'sshKeyPassphrase')
  check(settings.githubToken === (given['github-token'] ?? ''), 'githubToken')
  check(
    settings.knownHosts.every(
      line =>
        line !== '' &&
        line === line.trim() &&
        !line.includes('\n') &&
        !line.includes('\r') &&
        !line.startsWith('#')
    ),
    'knownHosts'
  )
  for (const field of [
    'sshKeyscan',
    'skipChecks',
    'failFast',
    'deployments',
    'planOnly'
  ] as const) {
    check(typeof settings[field] === 'boolean', field)
  }
  check(
    settings.sshUser === null ||
      (/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(settings.sshUser) && settings.sshUser.length <= 64),
    'sshUser'
  )
  check(
    settings.sshConfig.every(
      line =>
        line !== '' &&
        !line.includes('\n') &&
        !line.startsWith('#') &&
        !PROTECTED.includes((/^[A-Za-z][A-Za-z0-9]*/.exec(line)?.[0] ?? '').toLowerCase())
    ),
    'sshConfig'
  )
  check(
    settings.deployRs === null ||
      (settings.deployRs.length > 0 &&
        settings.deployRs[0] !== '' &&
        !settings.deployRs[0].startsWith('-')),
    'deployRs'
  )
  check(
    Array.isArray(settings.deployArgs.deploy) &&
      Array.isArray(settings.deployArgs.nix) &&
      settings.deployArgs.deploy.every(word => !MANAGED.includes(word.split('=')[0])) &&
      (settings.deployArgs.deploy.length === 0 || settings.deployArgs.deploy[0].startsWith('-')),
    'deployArgs'
  )
  check(isWhole(settings.parallel, 1, 256), 'parallel')
  check(isWhole(settings.hostTimeoutMs, 1, 24 * 60 * 60_000), 'hostTimeoutMs')
  check(isWhole(settings.keyscanTimeoutSeconds, 1, 300), 'keyscanTimeoutSeconds')
}

/** Either settings in range, or an InputError whose every problem starts with an input's name. */
function outcome(given: Partial<Record<string, string>>): 'settings' | 'input-error' {
  let settings: Settings
  try {
    settings = readSettings(name => given[name] ?? '')
  } catch (error) {
    if (!(error instanceof InputError))
      throw new Error(`readSettings threw ${String(error)} (not an InputError)`)
    expect(error.problems.length).toBeGreaterThan(0)
    for (const problem of error.problems) {
      expect(INPUT_NAMES.some(name => problem.startsWith(`${name}: `))).toBe(true)
    }
    expect(INPUT_NAMES.some(name => error.message.includes(`${name}: `))).toBe(true)
    return 'input-error'
  }
  checkSettings(settings, given)
  return 'settings'
}

beforeEach(() => {
  setSecret.mockClear()
})

describe('readSettings on arbitrary strings', () => {
  it('returns settings within the documented ranges or throws an InputError naming the input', () => {
    const seen = { settings: 0, 'input-error': 0 }
    fc.assert(
      fc.property(inputsArbitrary, given => {
        seen[outcome(given)]++
      }),
      { numRuns: runs(600) }
    )
    // Both branches must be exercised, or the property proves nothing.
    expect(seen['input-error']).toBeGreaterThan(0)
    expect(seen.settings).toBeGreaterThan(0)
  })

  it('one input at a time, everything else valid: each bad value is blamed on that input alone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...INPUT_NAMES), value, (name, raw) => {
        const given: Record<string, string> = { 'ssh-private-key': KEY, [name]: raw }
        let settings: Settings
        try {
          settings = readSettings(input => given[input] ?? '')
        } catch (error) {
          expect(error).toBeInstanceOf(InputError)
          for (const problem of (error as InstanceType<typeof InputError>).problems) {
            expect(problem.startsWith(`${name}: `)).toBe(true)
          }
          return
        }
        checkSettings(settings, given)
      }),
      { numRuns: runs(2_000) }
    )
  })

  it('never hangs: 100 000-character hostile values of every input take well under 3 s in all', () => {
    const n = 100_000
    const huge = [
      '1'.repeat(n) + 'x',
      '1'.repeat(n) + '.x',
      '.'.repeat(n),
      'a'.repeat(n) + '\u2028',
      'a' + ' '.repeat(n) + '\u2028',
      '"'.repeat(n + 1),
      '\\'.repeat(n),
      `${'web,'.repeat(n / 4)}`,
      `--magic-rollback ${'x '.repeat(n / 2)}`,
      `${'*'.repeat(n)}`
    ]
    const started = Date.now()
    for (const raw of huge) {
      for (const name of INPUT_NAMES) outcome({ 'ssh-private-key': KEY, [name]: raw })
    }
    expect(Date.now() - started).toBeLessThan(3_000)
  })
})

describe('hostile values are rejected naming the input', () => {
  const problems = (given: Record<string, string>): string[] => {
    try {
      readSettings(name => ({ 'ssh-private-key': KEY, ...given })[name] ?? '')
    } catch (error) {
      expect(error).toBeInstanceOf(InputError)
      return (error as InstanceType<typeof InputError>).problems
    }
    throw new Error(`accepted ${JSON.stringify(given)}`)
  }

  it.each([
    ['flake', '-oProxyCommand=x'],
    ['flake', '--impure'],
    ['flake', '.#web'],
    ['flake', 'github:o/r#x'],
    ['flake', '.\n--option'],
    ['flake', './a\rb'],
    ['ssh-user', '-oProxyCommand=x'],
    ['ssh-user', 'root;id'],
    ['ssh-user', '$(id)'],
    ['ssh-user', '`id`'],
    ['ssh-user', 'root\n-oProxyCommand=x'],
    ['ssh-user', '../../etc'],
    ['ssh-user', 'rööt'],
    ['ssh-config', 'StrictHostKeyChecking no'],
    ['ssh-config', 'Host *\n  StrictHostKeyChecking=no'],
    ['ssh-config', 'UserKnownHostsFile /dev/null'],
    ['ssh-config', 'ControlMaster auto'],
    ['ssh-config', 'controlpersist yes'],
    ['ssh-config', 'GlobalKnownHostsFile=/tmp/evil'],
    ['ssh-config', '-oStrictHostKeyChecking=no'],
    ['deploy-args', '--hostname evil.example.com'],
    ['deploy-args', '--hostname=evil'],
    ['deploy-args', '--ssh-opts=-oProxyCommand=touch\\ /tmp/x'],
    ['deploy-args', '--targets .#web .#db'],
    ['deploy-args', '.#web'],
    ['deploy-args', 'web'],
    ['deploy-args', '--remote-build $(id)'],
    ['deploy-args', '--dry-activate'],
    ['deploy-rs', '--help'],
    ['deploy-rs', '-oProxyCommand=x'],
    ['targets', 'all web'],
    ['targets', '"web\n"'],
    ['targets', '"unterminated'],
    ['known-hosts', 'web ssh-ed25519'],
    ['known-hosts', 'web $(id) AAAA'],
    ['parallel', '$(nproc)'],
    ['host-timeout', '`sleep 100`'],
    ['keyscan-timeout', '10;id'],
    ['dry-run', 'true;id'],
    ['pr-comment', '1']
  ])('%s %j', (name, raw) => {
    const found = problems({ [name]: raw })
    expect(found).toHaveLength(1)
    expect(found[0].startsWith(`${name}: `)).toBe(true)
  })
})

describe('hostile target words', () => {
  const inventory = parseInventory(
    {
      web: { hostname: 'web.example.com', profiles: ['system'] },
      db: { hostname: 'db.example.com', profiles: ['system', 'app'] }
    },
    '.'
  )

  it.each([
    'web;rm -rf /',
    '$(id)',
    '`id`',
    'web\n$(id)',
    '--hostname=evil',
    '-oProxyCommand=touch /tmp/x',
    '../../etc',
    '/etc/passwd',
    'wéb',
    'web\u200b',
    '🚀',
    'web.system;id',
    'db.../../etc'
  ])('%j parses as target words but is rejected by resolveTargets, which lists the nodes', raw => {
    const settings = readSettings(name => ({ 'ssh-private-key': KEY, targets: raw })[name] ?? '')
    expect(Array.isArray(settings.targets)).toBe(true)
    let error: unknown
    try {
      resolveTargets(settings.targets, inventory)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(PlanError)
    const message = (error as Error).message
    expect(message).toMatch(/^targets: /)
    expect(message).toMatch(/The nodes are: db, web\.$/)
  })

  it('even a node named like an option reaches argv only inside FLAKE#…', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), {
          minLength: 1,
          maxLength: 3
        }),
        fc.constantFrom('.', './infra', 'github:o/r'),
        fc.boolean(),
        (name, profiles, flake, whole) => {
          const [node] = parseInventory({ [name]: { hostname: 'h.example.com', profiles } }, flake)
          const planned = { ...node, targetProfiles: node.profiles, wholeNode: whole }
          const argv = deployArgv(planned, {
            deployRs: ['deploy'],
            deployArgs: { deploy: [], nix: [] },
            flake,
            dryRun: false,
            sshUser: null,
            sshOpts: ['-F', '/w/ssh_config']
          })
          const targetWords = argv
            .slice(argv.findIndex(word => word.startsWith('--ssh-opts=')) + 1)
            .filter(word => word !== '--targets')
          expect(targetWords).toHaveLength(whole ? 1 : node.profiles.length)
          for (const word of targetWords) expect(word.startsWith(`${flake}#`)).toBe(true)
        }
      ),
      { numRuns: runs(300) }
    )
  })
})
