/**
 * The ssh workspace with the real ssh-keygen, on keys generated for the test.
 */
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { runCommand, type RunCommand } from '../../../src/commands/process.js'
import { createSshKeygen } from '../../../src/commands/ssh-keygen.js'
import {
  createWorkspace,
  newWorkspacePath,
  removeWorkspace,
  sshOptionsFor,
  WorkspaceError,
  writeKnownHosts,
  writeSshConfig,
  type Workspace
} from '../../../src/ssh/workspace.js'

const PASSPHRASE = 'correct horse battery staple'

let root: string
let keysDir: string
const keys: Record<
  'plain' | 'encrypted' | 'pemEncrypted' | 'rsaPlain',
  { private: string; public: string }
> = {
  plain: { private: '', public: '' },
  encrypted: { private: '', public: '' },
  pemEncrypted: { private: '', public: '' },
  rsaPlain: { private: '', public: '' }
}

/** Runs the real ssh-keygen, recording each argv. */
const argvs: string[][] = []
const recordingRun: RunCommand = (argv, options) => {
  argvs.push([...argv])
  return runCommand(argv, options)
}
const keygen = createSshKeygen(recordingRun)

function generate(name: string, args: string[]): { private: string; public: string } {
  const file = join(keysDir, name)
  execFileSync('ssh-keygen', ['-q', '-C', `${name}@test`, '-f', file, ...args], { stdio: 'ignore' })
  return {
    private: readFileSync(file, 'utf8'),
    public: readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')
  }
}

/** The public key ssh-keygen derives from a key file without any passphrase (throws if it cannot). */
function publicKeyOf(file: string): string {
  return execFileSync('ssh-keygen', ['-y', '-P', '', '-f', file], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
    .toString()
    .trim()
    .split(' ')
    .slice(0, 2)
    .join(' ')
}

let counter = 0
const freshDir = (): string => join(root, `deploy-rs-action-test-${++counter}`)
const mode = (path: string): number => statSync(path).mode & 0o777

async function workspaceError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((caught: unknown) => caught)
  expect(error).toBeInstanceOf(WorkspaceError)
  return (error as Error).message
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'workspace-test-'))
  keysDir = join(root, 'generated')
  mkdirSync(keysDir)
  keys.plain = generate('plain', ['-t', 'ed25519', '-N', ''])
  keys.encrypted = generate('encrypted', ['-t', 'ed25519', '-N', PASSPHRASE])
  keys.pemEncrypted = generate('pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', PASSPHRASE])
  keys.rsaPlain = generate('rsa', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', ''])
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('createWorkspace', () => {
  it('writes an unencrypted key into a private directory (0700) as a private file (0600)', async () => {
    const dir = freshDir()
    const mask = jest.fn<(secret: string) => void>()
    const workspace = await createWorkspace(
      dir,
      { privateKeys: keys.plain.private, passphrase: '' },
      keygen,
      mask
    )
    expect(workspace).toEqual({
      dir,
      keyFiles: [join(dir, 'keys', 'key-1')],
      knownHostsFile: join(dir, 'known_hosts'),
      sshConfigFile: join(dir, 'ssh_config'),
      logsDir: join(dir, 'logs')
    })
    expect(mode(dir)).toBe(0o700)
    expect(mode(join(dir, 'keys'))).toBe(0o700)
    expect(mode(workspace.logsDir)).toBe(0o700)
    expect(mode(workspace.keyFiles[0])).toBe(0o600)
    expect(readFileSync(workspace.keyFiles[0], 'utf8')).toBe(keys.plain.private)
    expect(publicKeyOf(workspace.keyFiles[0])).toBe(keys.plain.public)
    // Nothing was decrypted, so there is no new text to mask; no helper is left behind.
    expect(mask).not.toHaveBeenCalled()
    expect(readdirSync(dir).sort()).toEqual(['keys', 'logs'])
  })

  it.each([
    ['Windows line endings', (key: string) => key.replace(/\n/g, '\r\n')],
    ['no trailing newline', (key: string) => key.trimEnd()],
    ['blank lines around it', (key: string) => `\n\n  \n${key}\n\n`],
    ['pasted onto one line', (key: string) => key.trimEnd().split('\n').join(' ')]
  ])('turns a key with %s into a key ssh-keygen loads', async (_, mangle) => {
    const workspace = await createWorkspace(
      freshDir(),
      { privateKeys: mangle(keys.plain.private), passphrase: '' },
      keygen,
      () => undefined
    )
    expect(publicKeyOf(workspace.keyFiles[0])).toBe(keys.plain.public)
  })

  it('decrypts an encrypted OpenSSH key with the passphrase, masks the decrypted text, removes the askpass helper', async () => {
    const dir = freshDir()
    const mask = jest.fn<(secret: string) => void>()
    argvs.length = 0
    const workspace = await createWorkspace(
      dir,
      { privateKeys: keys.encrypted.private, passphrase: PASSPHRASE },
      keygen,
      mask
    )
    const file = workspace.keyFiles[0]
    expect(publicKeyOf(file)).toBe(keys.encrypted.public)
    expect(mode(file)).toBe(0o600)
    const decrypted = readFileSync(file, 'utf8')
    expect(decrypted).not.toBe(keys.encrypted.private)
    expect(mask).toHaveBeenCalledTimes(1)
    expect(mask).toHaveBeenCalledWith(decrypted)
    expect(existsSync(join(dir, 'askpass'))).toBe(false)
    // The passphrase travels through the environment, never on a command line.
    expect(argvs.length).toBeGreaterThanOrEqual(2)
    for (const argv of argvs) expect(argv.join(' ')).not.toContain(PASSPHRASE)
  })

  it('decrypts an encrypted PEM RSA key (ssh-keygen -m PEM)', async () => {
    expect(keys.pemEncrypted.private).toMatch(
      /^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: /
    )
    const workspace = await createWorkspace(
      freshDir(),
      { privateKeys: keys.pemEncrypted.private, passphrase: PASSPHRASE },
      keygen,
      () => undefined
    )
    expect(publicKeyOf(workspace.keyFiles[0])).toBe(keys.pemEncrypted.public)
    expect(mode(workspace.keyFiles[0])).toBe(0o600)
  })

  it('decrypts an encrypted PEM RSA key pasted onto one line with CRLF around it', async () => {
    const oneLine = `\r\n${keys.pemEncrypted.private.trimEnd().split('\n').join(' ')}\r\n`
    const workspace = await createWorkspace(
      freshDir(),
      { privateKeys: oneLine, passphrase: PASSPHRASE },
      keygen,
      () => undefined
    )
    expect(publicKeyOf(workspace.keyFiles[0])).toBe(keys.pemEncrypted.public)
  })

  it('writes several keys from one secret, decrypting only the encrypted ones', async () => {
    const mask = jest.fn<(secret: string) => void>()
    const secret = `${keys.rsaPlain.private}\n${keys.encrypted.private}${keys.plain.private}`
    const workspace = await createWorkspace(
      freshDir(),
      { privateKeys: secret, passphrase: PASSPHRASE },
      keygen,
      mask
    )
    expect(workspace.keyFiles.map(file => file.split('/').at(-1))).toEqual([
      'key-1',
      'key-2',
      'key-3'
    ])
    expect(workspace.keyFiles.map(publicKeyOf)).toEqual([
      keys.rsaPlain.public,
      keys.encrypted.public,
      keys.plain.public
    ])
    for (const file of workspace.keyFiles) expect(mode(file)).toBe(0o600)
    expect(mask).toHaveBeenCalledTimes(1)
  })

  it('an encrypted key without a passphrase is a clear error, quickly, never a prompt', async () => {
    const started = Date.now()
    const message = await workspaceError(
      createWorkspace(
        freshDir(),
        { privateKeys: keys.encrypted.private, passphrase: '' },
        keygen,
        () => undefined
      )
    )
    expect(message).toBe(
      'ssh-private-key: the key is encrypted and ssh-key-passphrase is empty; pass the passphrase from a secret in ssh-key-passphrase, or use a key without one.'
    )
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('an encrypted PEM key without a passphrase is the same clear error', async () => {
    const message = await workspaceError(
      createWorkspace(
        freshDir(),
        { privateKeys: keys.pemEncrypted.private, passphrase: '' },
        keygen,
        () => undefined
      )
    )
    expect(message).toMatch(
      /^ssh-private-key: the key is encrypted and ssh-key-passphrase is empty/
    )
  })

  it('names which key of several is encrypted', async () => {
    const secret = `${keys.plain.private}${keys.encrypted.private}`
    const message = await workspaceError(
      createWorkspace(freshDir(), { privateKeys: secret, passphrase: '' }, keygen, () => undefined)
    )
    expect(message).toMatch(/^ssh-private-key: key 2 of 2 is encrypted/)
  })

  it('a wrong passphrase is a clear error naming ssh-key-passphrase, quickly, without quoting it', async () => {
    const dir = freshDir()
    const wrong = 'not the right passphrase'
    const started = Date.now()
    const message = await workspaceError(
      createWorkspace(
        dir,
        { privateKeys: keys.encrypted.private, passphrase: wrong },
        keygen,
        () => undefined
      )
    )
    expect(message).toBe(
      'ssh-key-passphrase: it does not decrypt the key (ssh-keygen: incorrect passphrase or unreadable key).'
    )
    expect(message).not.toContain(wrong)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(existsSync(join(dir, 'askpass'))).toBe(false)
  })

  it('a wrong passphrase for a PEM key is the same error', async () => {
    const message = await workspaceError(
      createWorkspace(
        freshDir(),
        { privateKeys: keys.pemEncrypted.private, passphrase: 'wrong passphrase' },
        keygen,
        () => undefined
      )
    )
    expect(message).toMatch(/^ssh-key-passphrase: it does not decrypt the key/)
  })

  it('a block that is no key is a clear error that quotes no key material', async () => {
    const body = 'bm90IGEga2V5IGF0IGFsbCwganVzdCBzb21lIHRleHQgdGhhdCBsb29rcyBsaWtlIGJhc2U2NA=='
    const message = await workspaceError(
      createWorkspace(
        freshDir(),
        {
          privateKeys: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`,
          passphrase: ''
        },
        keygen,
        () => undefined
      )
    )
    expect(message).toMatch(
      /^ssh-private-key: the key is not a usable private key \(ssh-keygen: .+\)\. Paste the whole private key file/
    )
    expect(message).not.toContain(body.slice(0, 16))
  })

  it('never reuses a directory that already exists', async () => {
    const dir = freshDir()
    mkdirSync(dir)
    await expect(
      createWorkspace(
        dir,
        { privateKeys: keys.plain.private, passphrase: '' },
        keygen,
        () => undefined
      )
    ).rejects.toThrow(/EEXIST/)
  })
})

describe('known_hosts and ssh config files', () => {
  let workspace: Workspace

  beforeAll(async () => {
    workspace = await createWorkspace(
      freshDir(),
      { privateKeys: `${keys.plain.private}${keys.rsaPlain.private}`, passphrase: '' },
      keygen,
      () => undefined
    )
  })

  it('writeKnownHosts writes one line per entry, 0600', async () => {
    await writeKnownHosts(workspace, ['web ssh-ed25519 AAAA', '[db]:2222 ssh-rsa BBBB'])
    expect(readFileSync(workspace.knownHostsFile, 'utf8')).toBe(
      'web ssh-ed25519 AAAA\n[db]:2222 ssh-rsa BBBB\n'
    )
    expect(mode(workspace.knownHostsFile)).toBe(0o600)
  })

  it('writeSshConfig puts the protections first, then the user lines, then Host * with every key and defaults, 0600', async () => {
    await writeSshConfig(workspace, ['ProxyJump bastion.example.com', 'Host web', 'User deploy'])
    const text = readFileSync(workspace.sshConfigFile, 'utf8')
    const lines = text.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^# /)
    const user = lines.indexOf('ProxyJump bastion.example.com')
    expect(lines.slice(user, user + 3)).toEqual([
      'ProxyJump bastion.example.com',
      'Host web',
      'User deploy'
    ])
    for (const option of [
      'StrictHostKeyChecking yes',
      `UserKnownHostsFile ${workspace.knownHostsFile}`,
      'GlobalKnownHostsFile /dev/null',
      'UpdateHostKeys no',
      'ControlMaster no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no'
    ]) {
      expect(lines.indexOf(option)).toBeGreaterThan(0)
      expect(lines.indexOf(option)).toBeLessThan(user)
    }
    const defaults = lines.indexOf('Host *')
    expect(defaults).toBeGreaterThan(user)
    expect(lines.indexOf(`  IdentityFile ${workspace.keyFiles[0]}`)).toBeGreaterThan(defaults)
    expect(lines.indexOf(`  IdentityFile ${workspace.keyFiles[1]}`)).toBeGreaterThan(defaults)
    expect(lines.indexOf('  IdentitiesOnly yes')).toBeGreaterThan(defaults)
    expect(text.endsWith('\n')).toBe(true)
    expect(mode(workspace.sshConfigFile)).toBe(0o600)
  })

  it('the config is one ssh accepts, and ssh resolves it as intended', async () => {
    await writeSshConfig(workspace, ['ProxyJump bastion.example.com'])
    const options = sshOptionsFor(workspace, ['-p', '2222'])
    const config = execFileSync('ssh', ['-G', ...options, 'web.example.com'], {
      stdio: ['ignore', 'pipe', 'pipe']
    }).toString()
    expect(config).toMatch(/^stricthostkeychecking true$/m)
    expect(config).toMatch(/^batchmode yes$/m)
    expect(config).toMatch(/^controlmaster false$/m)
    expect(config).toMatch(/^port 2222$/m)
    expect(config).toMatch(/^proxyjump bastion\.example\.com$/m)
    expect(config).toContain(`userknownhostsfile ${workspace.knownHostsFile}`)
    expect(config).toContain(`identityfile ${workspace.keyFiles[0]}`)
  })

  it('sshOptionsFor: strict host keys, own known_hosts, no multiplexing, before the node options', () => {
    const options = sshOptionsFor(workspace, ['-p', '2222', '-o', 'StrictHostKeyChecking=no'])
    expect(options.slice(0, 2)).toEqual(['-F', workspace.sshConfigFile])
    expect(options.slice(-4)).toEqual(['-p', '2222', '-o', 'StrictHostKeyChecking=no'])
    const set = options.slice(0, -4)
    for (const option of [
      'StrictHostKeyChecking=yes',
      `UserKnownHostsFile=${workspace.knownHostsFile}`,
      'GlobalKnownHostsFile=/dev/null',
      'BatchMode=yes',
      'ControlMaster=no',
      'ControlPath=none'
    ]) {
      expect(set[set.indexOf(option) - 1]).toBe('-o')
    }
    // deploy-rs splits --ssh-opts on single spaces: no word may hold one.
    for (const word of set) expect(word).not.toMatch(/\s/)
  })

  it('the action options win over a node that tries to weaken them (ssh keeps the first value)', () => {
    const options = sshOptionsFor(workspace, [
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null'
    ])
    const config = execFileSync('ssh', ['-G', ...options, 'web.example.com'], {
      stdio: ['ignore', 'pipe', 'pipe']
    }).toString()
    expect(config).toMatch(/^stricthostkeychecking true$/m)
    expect(config).toContain(`userknownhostsfile ${workspace.knownHostsFile}`)
  })
})

describe('newWorkspacePath', () => {
  it('is a fresh deploy-rs-action-* directory under RUNNER_TEMP', () => {
    const a = newWorkspacePath('/runner/_temp')
    const b = newWorkspacePath('/runner/_temp')
    expect(a).toMatch(/^\/runner\/_temp\/deploy-rs-action-[0-9a-f-]{36}$/)
    expect(a).not.toBe(b)
  })

  it('falls back to the system temp directory', () => {
    expect(newWorkspacePath(undefined).startsWith(join(tmpdir(), 'deploy-rs-action-'))).toBe(true)
    expect(newWorkspacePath('').startsWith(join(tmpdir(), 'deploy-rs-action-'))).toBe(true)
  })

  it('refuses a temp directory with a blank (deploy-rs would split the paths)', () => {
    expect(() => newWorkspacePath('/home/runner/my temp')).toThrow(WorkspaceError)
    expect(() => newWorkspacePath('/home/runner/my temp')).toThrow(
      /RUNNER_TEMP \(\/home\/runner\/my temp\) contains a blank/
    )
  })
})

describe('removeWorkspace', () => {
  it('removes a workspace directory with everything in it', async () => {
    const dir = freshDir()
    await createWorkspace(
      dir,
      { privateKeys: keys.plain.private, passphrase: '' },
      keygen,
      () => undefined
    )
    expect(await removeWorkspace(dir)).toBe(true)
    expect(existsSync(dir)).toBe(false)
  })

  it('is fine when the workspace is already gone', async () => {
    expect(await removeWorkspace(join(root, 'deploy-rs-action-never-created'))).toBe(true)
  })

  it.each([
    '',
    '/',
    '/tmp',
    join('/home', 'runner', '.ssh'),
    '/tmp/deploy-rs-action-x/..',
    '/tmp/deploy-rs-action-x/',
    '/tmp/deploy-rs-action-x/keys',
    'deploy-rs-actionx',
    '/tmp/my-deploy-rs-action-x'
  ])('refuses %j', async dir => {
    expect(await removeWorkspace(dir)).toBe(false)
  })

  it('leaves a directory not named deploy-rs-action-* in place', async () => {
    const dir = join(root, 'precious')
    mkdirSync(dir)
    expect(await removeWorkspace(dir)).toBe(false)
    expect(existsSync(dir)).toBe(true)
  })
})
