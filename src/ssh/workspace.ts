import { randomUUID } from 'node:crypto'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ASKPASS_VARIABLE, type SshKeygen } from '../commands/ssh-keygen.js'
import { splitPrivateKeys } from './keys.js'
import { ExpectedError } from '../errors.js'

/** Files the action writes for ssh, all inside one private directory. */
export interface Workspace {
  readonly dir: string
  readonly keyFiles: readonly string[]
  readonly knownHostsFile: string
  readonly sshConfigFile: string
  readonly logsDir: string
}

export class WorkspaceError extends ExpectedError {}

export const WORKSPACE_PREFIX = 'deploy-rs-action-'

/**
 * Picks a fresh directory name under RUNNER_TEMP. A random name per run keeps
 * two jobs on one self-hosted runner apart and ignores leftovers of killed runs.
 */
export function newWorkspacePath(runnerTemp: string | undefined): string {
  const dir = join(runnerTemp || tmpdir(), `${WORKSPACE_PREFIX}${randomUUID()}`)
  if (/\s/.test(dir)) {
    // deploy-rs splits --ssh-opts on spaces, so no path in it may hold one.
    throw new WorkspaceError(
      `RUNNER_TEMP (${runnerTemp}) contains a blank; deploy-rs cannot pass such paths to ssh. Use a runner whose temp directory has none.`
    )
  }
  return dir
}

/** Creates the directory (0700) and writes the keys (0600), decrypting encrypted ones. */
export async function createWorkspace(
  dir: string,
  secret: { privateKeys: string; passphrase: string },
  keygen: SshKeygen,
  mask: (secret: string) => void
): Promise<Workspace> {
  const keys = splitPrivateKeys(secret.privateKeys)
  await mkdir(dir, { mode: 0o700 })
  const keysDir = join(dir, 'keys')
  const logsDir = join(dir, 'logs')
  await mkdir(keysDir, { mode: 0o700 })
  await mkdir(logsDir, { mode: 0o700 })

  const keyFiles: string[] = []
  const askpass = join(dir, 'askpass')
  try {
    for (const [index, key] of keys.entries()) {
      const keyFile = join(keysDir, `key-${index + 1}`)
      await writeFile(keyFile, key, { mode: 0o600, flag: 'wx' })
      if (await unlockKey(keyFile, index + 1, keys.length, secret.passphrase, keygen, askpass)) {
        // The decrypted text differs from the secret the runner already masks.
        mask(await readFile(keyFile, 'utf8'))
      }
      keyFiles.push(keyFile)
    }
  } finally {
    await rm(askpass, { force: true })
  }
  return {
    dir,
    keyFiles,
    knownHostsFile: join(dir, 'known_hosts'),
    sshConfigFile: join(dir, 'ssh_config'),
    logsDir
  }
}

async function unlockKey(
  keyFile: string,
  number: number,
  count: number,
  passphrase: string,
  keygen: SshKeygen,
  askpass: string
): Promise<boolean> {
  const which = count === 1 ? 'the key' : `key ${number} of ${count}`
  const probe = await keygen.probe(keyFile)
  if (probe.state === 'usable') return false
  if (probe.state === 'invalid') {
    throw new WorkspaceError(
      `ssh-private-key: ${which} is not a usable private key (ssh-keygen: ${probe.detail || 'invalid format'}). Paste the whole private key file, including its BEGIN and END lines.`
    )
  }
  if (passphrase === '') {
    throw new WorkspaceError(
      `ssh-private-key: ${which} is encrypted and ssh-key-passphrase is empty; pass the passphrase from a secret in ssh-key-passphrase, or use a key without one.`
    )
  }
  // A tiny helper that prints the passphrase from the environment: it never appears in argv or a file.
  await writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' "$${ASKPASS_VARIABLE}"\n`, { mode: 0o700 })
  await chmod(askpass, 0o700)
  const result = await keygen.removePassphrase(keyFile, passphrase, askpass)
  if (!result.ok) {
    throw new WorkspaceError(
      `ssh-key-passphrase: it does not decrypt ${which} (ssh-keygen: incorrect passphrase or unreadable key).`
    )
  }
  return true
}

/** Writes known_hosts (0600). */
export async function writeKnownHosts(
  workspace: Workspace,
  lines: readonly string[]
): Promise<void> {
  await writeFile(workspace.knownHostsFile, lines.map(line => `${line}\n`).join(''), {
    mode: 0o600
  })
}

/**
 * Writes the ssh config every connection uses, jump hosts included (the ssh
 * that ProxyJump starts reads this file, not the command line's -o options).
 * ssh keeps the FIRST value it reads for an option, so the host-key
 * protections come before anything of the user's: no line of the ssh-config
 * input, no file it includes, no Host or Match block can change them. The
 * action's other defaults come after the user's lines, which may change them.
 * What the input sets beyond that (ProxyJump, Port, User, a ProxyCommand or
 * `Match exec` command) is the workflow's own and applies as written.
 */
export async function writeSshConfig(
  workspace: Workspace,
  userLines: readonly string[]
): Promise<void> {
  for (const line of userLines) {
    if (/^hostkeyalias(?:\s|=)/i.test(line.trim())) {
      // ssh would check the host's key against the entries of another name than
      // the one the action scanned or matched a pin for; it has no "unset" value.
      throw new WorkspaceError(
        `ssh-config: HostKeyAlias cannot be used: host keys are looked up under each host's own name. Pin the host's key under that name in known-hosts instead.`
      )
    }
  }
  const lines = [
    '# Written by deploy-rs-action for this job only; removed by its post step.',
    '# Host-key protections first: ssh keeps the first value it reads.',
    'StrictHostKeyChecking yes',
    `UserKnownHostsFile ${workspace.knownHostsFile}`,
    'GlobalKnownHostsFile /dev/null',
    // ssh before 8.5 does not know KnownHostsCommand; IgnoreUnknown is also first-wins,
    // so the user's own IgnoreUnknown values are merged in here.
    `IgnoreUnknown ${['KnownHostsCommand', ...ignoredUnknown(userLines)].join(',')}`,
    'KnownHostsCommand none',
    'NoHostAuthenticationForLocalhost no',
    'VerifyHostKeyDNS no',
    'UpdateHostKeys no',
    'BatchMode yes',
    // Reusing a master connection would skip the host-key check, and breaks magic rollback.
    'ControlMaster no',
    'ControlPath none',
    'ControlPersist no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    ...(userLines.length > 0 ? ['# The ssh-config input.', ...userLines] : []),
    '# Defaults the ssh-config input may change.',
    'Host *',
    ...workspace.keyFiles.map(file => `  IdentityFile ${file}`),
    '  IdentitiesOnly yes',
    '  ServerAliveInterval 15',
    '  ServerAliveCountMax 4',
    '  ConnectTimeout 30',
    '  LogLevel ERROR'
  ]
  await writeFile(workspace.sshConfigFile, `${lines.join('\n')}\n`, { mode: 0o600 })
}

/** The option names of the user's IgnoreUnknown lines. */
function ignoredUnknown(userLines: readonly string[]): string[] {
  return userLines.flatMap(line => {
    const match = /^ignoreunknown(?:\s*=\s*|\s+)(.+)$/i.exec(line.trim())
    return match ? match[1].split(/[\s,]+/).filter(name => name !== '') : []
  })
}

/**
 * The ssh options deploy-rs must pass to every ssh and `nix copy` it runs.
 * deploy-rs REPLACES a node's sshOpts with --ssh-opts, so the node's own
 * options are appended here. Host-key and multiplexing options also go on
 * the command line, ahead of the node's; the plan has already refused node
 * options that would replace the config file (-F) or weaken host-key
 * checking (see src/plan/ssh-opts.ts).
 */
export function sshOptionsFor(workspace: Workspace, nodeSshOpts: readonly string[]): string[] {
  return [
    '-F',
    workspace.sshConfigFile,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${workspace.knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    // Magic rollback opens several sessions; multiplexing breaks it (deploy-rs #106, #226, #233).
    '-o',
    'ControlMaster=no',
    '-o',
    'ControlPath=none',
    ...nodeSshOpts
  ]
}

/** Removes a workspace; only directories this action created are ever removed. */
export async function removeWorkspace(dir: string): Promise<boolean> {
  if (!dir || !dir.split('/').at(-1)?.startsWith(WORKSPACE_PREFIX)) return false
  await rm(dir, { recursive: true, force: true })
  return true
}
