/**
 * Child processes never get the action's inputs or the runner's tokens: the
 * environment builder, and both places that start processes (short commands
 * and deploy-rs), checked from a real child that reads /proc/self/environ
 * (a shell would hide names with '-', such as INPUT_SSH-PRIVATE-KEY).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  childEnvironment,
  isDeniedToChildren,
  withoutSecrets
} from '../../../src/commands/child-env.js'
import { runCommand } from '../../../src/commands/process.js'
import { createSshKeygen, ASKPASS_VARIABLE } from '../../../src/commands/ssh-keygen.js'
import type { CommandOptions } from '../../../src/commands/process.js'
import { launchProcess } from '../../../src/commands/process.js'

/** What the runner and a workflow put in the step's environment that no child may see. */
const SECRET_ENV: Record<string, string> = {
  'INPUT_SSH-PRIVATE-KEY': 'key-line-AAAAC3NzaC1lZDI1NTE5AAAA',
  'INPUT_SSH-KEY-PASSPHRASE': 'pass phrase value',
  'INPUT_GITHUB-TOKEN': 'ghs_inputTokenValue0123',
  INPUT_FLAKE: 'flake-input-value',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-value',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions.example/oidc',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token-value',
  GITHUB_TOKEN: 'ghs_envTokenValue0123',
  GH_TOKEN: 'gho_cliTokenValue0123',
  GITHUB_ENV: '/tmp/runner/file-commands/set_env',
  GITHUB_OUTPUT: '/tmp/runner/file-commands/set_output'
}
/** What children need and must keep. */
const KEPT_ENV: Record<string, string> = {
  NIX_CONFIG: 'access-tokens = github.com=users-own',
  XDG_CACHE_HOME: '/tmp/cache',
  SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
  ACTIONS_RUNTIME_URL: 'https://pipelines.example/',
  ACTIONS_CACHE_URL: 'https://cache.example/',
  GITHUB_WORKSPACE: '/work/repo',
  RUNNER_TEMP: '/tmp/runner'
}

/** A node child that prints its raw /proc/self/environ as one JSON object. */
const PRINT_ENVIRON = [
  process.execPath,
  '-e',
  `const raw = require('fs').readFileSync('/proc/self/environ', 'utf8');
   const env = {};
   for (const entry of raw.split('\\0').filter(Boolean)) {
     const eq = entry.indexOf('=');
     env[entry.slice(0, eq)] = entry.slice(eq + 1);
   }
   process.stdout.write(JSON.stringify(env));`
]

function expectNoSecret(seen: Record<string, string>): void {
  for (const [name, value] of Object.entries(SECRET_ENV)) {
    expect(Object.keys(seen)).not.toContain(name)
    expect(Object.values(seen).join('\n')).not.toContain(value)
  }
  expect(Object.keys(seen).filter(name => name.toUpperCase().startsWith('INPUT_'))).toEqual([])
}

describe('childEnvironment', () => {
  it('drops every input and token and keeps the rest of the environment', () => {
    const env = childEnvironment({}, { ...SECRET_ENV, ...KEPT_ENV, PATH: '/bin' })
    expect(env).toEqual({ ...KEPT_ENV, PATH: '/bin' })
  })

  it('adds extra variables, but an extra variable cannot bring a denied one back', () => {
    const env = childEnvironment(
      { EXTRA: 'yes', 'INPUT_SSH-PRIVATE-KEY': 'again', GITHUB_TOKEN: 'again' },
      { PATH: '/bin' }
    )
    expect(env).toEqual({ PATH: '/bin', EXTRA: 'yes' })
  })

  it('denies names whatever their case, and any future ACTIONS_ID_TOKEN_REQUEST_ name', () => {
    expect(isDeniedToChildren('input_targets')).toBe(true)
    expect(isDeniedToChildren('Github_Token')).toBe(true)
    expect(isDeniedToChildren('ACTIONS_ID_TOKEN_REQUEST_AUDIENCE')).toBe(true)
    expect(isDeniedToChildren('INPUTS')).toBe(false)
    expect(isDeniedToChildren('MY_GITHUB_TOKEN_FILE')).toBe(false)
    expect(withoutSecrets({ A: undefined, B: 'b' })).toEqual({ B: 'b' })
  })
})

describe('a real child', () => {
  const saved: Record<string, string | undefined> = {}
  beforeEach(() => {
    for (const [name, value] of Object.entries(SECRET_ENV)) {
      saved[name] = process.env[name]
      process.env[name] = value
    }
  })
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })

  it('started by runCommand (nix, ssh-keyscan, ssh-keygen) sees no input and no token', async () => {
    const result = await runCommand(PRINT_ENVIRON, { timeoutMs: 30_000 })
    expect(result.code).toBe(0)
    const seen = JSON.parse(result.stdout) as Record<string, string>
    expectNoSecret(seen)
    expect(seen.PATH).toBe(process.env.PATH)
  })

  it('gets the extra variables it was given (the askpass passphrase for ssh-keygen)', async () => {
    const result = await runCommand(PRINT_ENVIRON, {
      timeoutMs: 30_000,
      extraEnv: { [ASKPASS_VARIABLE]: 'the passphrase' }
    })
    const seen = JSON.parse(result.stdout) as Record<string, string>
    expect(seen[ASKPASS_VARIABLE]).toBe('the passphrase')
    expectNoSecret(seen)
  })

  it('started by the deploy-rs launcher sees no input and no token, even when handed them', async () => {
    const child = launchProcess(PRINT_ENVIRON, { ...process.env, MARKER: 'kept' })
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    const exit = await child.exited
    expect(exit.code).toBe(0)
    const seen = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>
    expectNoSecret(seen)
    expect(seen.MARKER).toBe('kept')
  })
})

describe('ssh-keygen', () => {
  it('hands the passphrase to ssh-keygen -p under its own name, not an INPUT_ one', async () => {
    const calls: { argv: readonly string[]; options: CommandOptions }[] = []
    const keygen = createSshKeygen(async (argv, options) => {
      calls.push({ argv, options })
      return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, startError: null }
    })
    await keygen.removePassphrase('/tmp/key', 'secret words', '/tmp/askpass')
    expect(calls).toHaveLength(1)
    const extra = calls[0].options.extraEnv ?? {}
    expect(extra[ASKPASS_VARIABLE]).toBe('secret words')
    expect(extra.SSH_ASKPASS).toBe('/tmp/askpass')
    expect(Object.keys(extra).filter(isDeniedToChildren)).toEqual([])
    // Only the variables it needs: the rest of the environment is added (filtered) at spawn.
    expect(Object.keys(extra).sort()).toEqual(
      [ASKPASS_VARIABLE, 'DISPLAY', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE'].sort()
    )
  })
})
