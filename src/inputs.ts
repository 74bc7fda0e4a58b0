import { ExpectedError } from './errors.js'
import * as core from '@actions/core'
import { MIN_SECRET_CHARS, rememberSecret } from './secret-registry.js'
import { normalisedPrivateKeys } from './ssh/keys.js'
import { parseDeployArgs } from './deploy/deploy-args.js'
import { describeValue as describe } from './text.js'
import { splitWords } from './words.js'
import {
  DEFAULT_HEALTH_TIMEOUT_SECONDS,
  parseHealthCheck,
  parseHealthTimeout,
  type HealthCheck
} from './health/mode.js'

/** `true`, `false`, or decided by the event (`auto`). */
export type Tristate = boolean | 'auto'

/** Every input of action.yml, validated. Read once, by readSettings. */
export interface Settings {
  /** `all`, or the names the user wrote (resolved against the flake by the plan). */
  readonly targets: 'all' | readonly string[]
  /** Nodes deployed first (as written, each also in targets); the rest only when they all succeed. */
  readonly canary: readonly string[]
  readonly dryRun: Tristate
  readonly flake: string
  /** The secret as given; parsed into key files by the ssh workspace. Empty when not given. */
  readonly sshPrivateKey: string
  readonly sshKeyPassphrase: string
  /** Pinned known_hosts lines (comments and blanks dropped). */
  readonly knownHosts: readonly string[]
  readonly sshKeyscan: boolean
  readonly sshUser: string | null
  /** Extra ssh_config lines, applied before the action's own. */
  readonly sshConfig: readonly string[]
  /** The deploy-rs command as words, or null to detect it. */
  readonly deployRs: readonly string[] | null
  /** Extra deploy-rs flags, and the words after `--` that go to nix. */
  readonly deployArgs: { readonly deploy: readonly string[]; readonly nix: readonly string[] }
  readonly skipChecks: boolean
  readonly parallel: number
  readonly failFast: boolean
  readonly hostTimeoutMs: number
  readonly keyscanTimeoutSeconds: number
  readonly githubToken: string
  readonly prComment: Tristate
  readonly deployments: boolean
  /** What runs on each node after it is deployed (never on dry runs). */
  readonly healthCheck: HealthCheck
  /** How long each of a node's health-check sessions may take. */
  readonly healthTimeoutMs: number
  readonly planOnly: boolean
}

/** Bad input: every problem found, each naming its input. */
export class InputError extends ExpectedError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} inputs are invalid:\n- ${problems.join('\n- ')}`
    )
  }
}

type GetInput = (name: string) => string

const MAX_PARALLEL = 256

/** ssh options the action always sets on the command line; ssh-config may not weaken them. */
const PROTECTED_SSH_OPTIONS = [
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'batchmode',
  'controlmaster',
  'controlpath',
  'controlpersist',
  'knownhostscommand'
]

/**
 * Reads and validates every input. Secrets are masked before anything else
 * happens, so no later message can print them.
 */
export function readSettings(getInput: GetInput = name => core.getInput(name)): Settings {
  const sshPrivateKey = getInput('ssh-private-key')
  const sshKeyPassphrase = getInput('ssh-key-passphrase')
  const githubToken = getInput('github-token')
  maskPrivateKey(sshPrivateKey)
  maskSecret(sshKeyPassphrase)
  maskSecret(githubToken)

  const problems: string[] = []
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn()
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error))
      return fallback
    }
  }

  const planOnly = attempt(() => parseBoolean('plan-only', getInput('plan-only'), false), false)
  const dryRun = attempt(() => parseTristate('dry-run', getInput('dry-run')), 'auto' as Tristate)
  const targets = attempt(() => parseTargets(getInput('targets')), 'all' as const)
  const settings: Settings = {
    targets,
    canary: attempt(() => parseCanary(getInput('canary'), targets), []),
    dryRun,
    flake: attempt(() => parseFlake(getInput('flake')), '.'),
    sshPrivateKey,
    sshKeyPassphrase,
    knownHosts: attempt(() => parseKnownHosts(getInput('known-hosts')), []),
    sshKeyscan: attempt(() => parseBoolean('ssh-keyscan', getInput('ssh-keyscan'), true), true),
    sshUser: attempt(() => parseSshUser(getInput('ssh-user')), null),
    sshConfig: attempt(() => parseSshConfig(getInput('ssh-config')), []),
    deployRs: attempt(() => parseDeployRs(getInput('deploy-rs')), null),
    deployArgs: attempt(() => parseDeployArgs(getInput('deploy-args')), { deploy: [], nix: [] }),
    skipChecks: attempt(() => parseBoolean('skip-checks', getInput('skip-checks'), false), false),
    parallel: attempt(() => parseParallel(getInput('parallel')), 4),
    failFast: attempt(() => parseBoolean('fail-fast', getInput('fail-fast'), false), false),
    hostTimeoutMs: attempt(() => parseHostTimeout(getInput('host-timeout')), 30 * 60_000),
    keyscanTimeoutSeconds: attempt(() => parseKeyscanTimeout(getInput('keyscan-timeout')), 10),
    githubToken,
    prComment: attempt(
      () => parseTristate('pr-comment', getInput('pr-comment')),
      'auto' as Tristate
    ),
    deployments: attempt(() => parseBoolean('deployments', getInput('deployments'), false), false),
    healthCheck: attempt(() => parseHealthCheck(getInput('health-check')), {
      kind: 'systemd',
      requireSystemctl: false
    } as HealthCheck),
    healthTimeoutMs: attempt(
      () => parseHealthTimeout(getInput('health-timeout')),
      DEFAULT_HEALTH_TIMEOUT_SECONDS * 1000
    ),
    planOnly
  }
  if (!planOnly && sshPrivateKey.trim() === '') {
    problems.push(
      "ssh-private-key: no key given. Pass the deploy key from a secret, e.g. 'ssh-private-key: ${{ secrets.DEPLOY_SSH_KEY }}' (only plan-only runs need no key)."
    )
  }
  if (problems.length > 0) throw new InputError(problems)
  return settings
}

/**
 * Masks a secret as a whole and line by line, and remembers it for redacting
 * what the runner does not mask (the PR comment, deployment records).
 *
 * The runner masks every value it is given, of any length, but child
 * processes reach the log one line at a time, so a multi-line value must also
 * be given line by line. Lines under `MIN_SECRET_CHARS` (the tail of a key's
 * base64, e.g. `g=`) are not masked: their characters would vanish from the
 * whole log, and 1–3 base64 characters give nothing away. Armor lines
 * (`-----BEGIN ... KEY-----`) are public text and are not masked either.
 */
export function maskSecret(secret: string): void {
  maskValues(maskValuesOf(secret))
}

/**
 * `maskSecret` for the ssh-private-key input: the secret as pasted, and each
 * key as the workspace rebuilds it. A key pasted onto one line becomes many
 * lines there, none of which the pasted value contains as a line of its own.
 * (The decrypted form of an encrypted key is masked when it is made: the
 * workspace calls `maskSecret` on it.)
 */
export function maskPrivateKey(secret: string): void {
  maskValues([secret, ...normalisedPrivateKeys(secret)].flatMap(maskValuesOf))
}

function maskValuesOf(secret: string): string[] {
  if (secret.trim() === '') return []
  const lines = secret
    .split(/[\r\n]+/)
    .map(line => line.trim())
    .filter(line => line.length >= MIN_SECRET_CHARS && !line.startsWith('-----'))
  return [secret, ...(lines.length === 1 && lines[0] === secret ? [] : lines)]
}

function maskValues(values: readonly string[]): void {
  for (const value of new Set(values)) {
    core.setSecret(value)
    rememberSecret(value)
  }
}

export function parseBoolean(name: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim().toLowerCase()
  if (value === '') return fallback
  if (value === 'true') return true
  if (value === 'false') return false
  throw new Error(`${name}: got ${describe(raw.trim())}; expected true or false.`)
}

export function parseTristate(name: string, raw: string): Tristate {
  const value = raw.trim().toLowerCase()
  if (value === '' || value === 'auto') return 'auto'
  if (value === 'true') return true
  if (value === 'false') return false
  throw new Error(`${name}: got ${describe(raw.trim())}; expected auto, true or false.`)
}

/** Node names a user wrote; checked against the flake later by the plan. */
export function parseTargets(raw: string): 'all' | string[] {
  const words = targetWords('targets', raw)
  if (words.every(word => word === 'all')) return 'all'
  if (words.includes('all')) {
    throw new Error(
      `targets: 'all' cannot be combined with node names; got ${describe(raw.trim())}.`
    )
  }
  return words
}

/** Canary nodes: written as targets are, and each one of the targets. */
export function parseCanary(raw: string, targets: 'all' | readonly string[]): string[] {
  const words = targetWords('canary', raw)
  if (words.includes('all')) {
    throw new Error(`canary: got 'all'; name the nodes deployed first, as in targets.`)
  }
  const outside = targets === 'all' ? [] : words.filter(word => !targets.includes(word))
  if (outside.length > 0) {
    throw new Error(
      `canary: ${outside.map(describe).join(', ')} ${outside.length === 1 ? 'is' : 'are'} not in targets; every canary node must also be a target, written the same way.`
    )
  }
  return words
}

function targetWords(input: string, raw: string): string[] {
  const words = splitTargetWords(input, raw)
  for (const word of words) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(word)) {
      throw new Error(
        `${input}: ${describe(word)} contains a control character; expected node or node.profile.`
      )
    }
  }
  return [...new Set(words)]
}

/** Splits on commas, blanks and newlines, keeping double-quoted parts ("a.b".system) whole. */
function splitTargetWords(input: string, raw: string): string[] {
  const words: string[] = []
  let current = ''
  let quoted = false
  for (const ch of raw) {
    if (ch === '"') quoted = !quoted
    if (!quoted && (ch === ',' || /\s/.test(ch))) {
      if (current) words.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  if (quoted) throw new Error(`${input}: unterminated " quote in ${describe(raw.trim())}.`)
  if (current) words.push(current)
  return words
}

export function parseFlake(raw: string): string {
  const flake = raw.trim() || '.'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(flake)) {
    throw new Error(
      `flake: ${describe(flake)} contains a control character or newline; expected one flake reference such as . or github:owner/repo.`
    )
  }
  if (flake.startsWith('-')) {
    throw new Error(
      `flake: ${describe(flake)} starts with '-'; expected a flake reference such as . or ./infra (write ./-dir for a directory named like an option).`
    )
  }
  if (flake.includes('#')) {
    throw new Error(
      `flake: ${describe(flake)} contains '#'; give the flake alone (e.g. . or github:owner/repo) and put node names in targets.`
    )
  }
  return flake
}

/** The trimmed lines that are neither blank nor comments, with their 1-based line numbers. */
function meaningfulLines(raw: string): { trimmed: string; number: number }[] {
  return raw
    .replace(/\r/g, '')
    .split('\n')
    .map((line, index) => ({ trimmed: line.trim(), number: index + 1 }))
    .filter(({ trimmed }) => trimmed !== '' && !trimmed.startsWith('#'))
}

export function parseKnownHosts(raw: string): string[] {
  return meaningfulLines(raw).map(({ trimmed, number }) => {
    const fields = trimmed.split(/\s+/)
    const withoutMarker = fields[0].startsWith('@') ? fields.slice(1) : fields
    if (withoutMarker.length < 3 || !/^[A-Za-z0-9@.-]+$/.test(withoutMarker[1])) {
      throw new Error(
        `known-hosts: line ${number} is not a known_hosts entry: ${describe(trimmed)}; expected 'HOST KEYTYPE BASE64KEY' (for a non-22 port '[HOST]:PORT KEYTYPE BASE64KEY'), as printed by ssh-keyscan.`
      )
    }
    return trimmed
  })
}

export function parseSshUser(raw: string): string | null {
  const user = raw.trim()
  if (user === '') return null
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(user) || user.length > 64) {
    throw new Error(
      `ssh-user: got ${describe(user)}; expected a user name of letters, digits, '.', '_' or '-' not starting with '-'.`
    )
  }
  return user
}

export function parseSshConfig(raw: string): string[] {
  return meaningfulLines(raw).map(({ trimmed, number }) => {
    const match = /^([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(\S.*)$/.exec(trimmed)
    if (!match) {
      throw new Error(
        `ssh-config: line ${number} is not an ssh_config line: ${describe(trimmed)}; expected 'Keyword value' such as 'ProxyJump bastion'.`
      )
    }
    if (PROTECTED_SSH_OPTIONS.includes(match[1].toLowerCase())) {
      throw new Error(
        `ssh-config: line ${number} sets ${match[1]}, which the action controls (host keys are always verified against its own known_hosts, without multiplexing); pin host keys with known-hosts instead.`
      )
    }
    return trimmed
  })
}

export function parseDeployRs(raw: string): string[] | null {
  if (raw.trim() === '') return null
  let words: string[]
  try {
    words = splitWords(raw)
  } catch (error) {
    throw new Error(
      `deploy-rs: ${(error as Error).message} in ${describe(raw.trim())}; expected a command such as 'deploy' or 'nix run github:serokell/deploy-rs --'.`
    )
  }
  if (words.length === 0 || words[0] === '' || words[0].startsWith('-')) {
    throw new Error(
      `deploy-rs: got ${describe(raw.trim())}; expected a command such as 'deploy' or 'nix run github:serokell/deploy-rs --'.`
    )
  }
  return words
}

export function parseParallel(raw: string): number {
  const value = raw.trim() || '4'
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_PARALLEL) {
    throw new Error(
      `parallel: got ${describe(value)}; expected a whole number from 1 to ${MAX_PARALLEL}.`
    )
  }
  return Number(value)
}

export function parseHostTimeout(raw: string): number {
  const value = raw.trim() || '30'
  const minutes = Number(value)
  // Linear pattern: /^\d*\.?\d+$/ backtracks quadratically on long digit strings.
  if (!/^(?:\d+(?:\.\d+)?|\.\d+)$/.test(value) || !(minutes > 0) || minutes > 24 * 60) {
    throw new Error(
      `host-timeout: got ${describe(value)}; expected minutes greater than 0 and at most 1440, fractions allowed (e.g. 30 or 0.5).`
    )
  }
  // A tiny positive value must not round to 0 ms (an instant or disabled timer).
  return Math.max(1, Math.round(minutes * 60_000))
}

export function parseKeyscanTimeout(raw: string): number {
  const value = raw.trim() || '10'
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 300) {
    throw new Error(
      `keyscan-timeout: got ${describe(value)}; expected whole seconds from 1 to 300.`
    )
  }
  return Number(value)
}
