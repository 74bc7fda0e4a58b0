/**
 * SSH keys for the fleet and its tests, made with ssh-keygen (argv, no shell):
 * host keys, the fleet's client key, and extra client keys in other formats.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runChecked } from './processes.js'

export type KeyType = 'ed25519' | 'rsa'

export interface MakeKeyOptions {
  type: KeyType
  /** openssh (default): `BEGIN OPENSSH PRIVATE KEY`; pem: `BEGIN RSA PRIVATE KEY` (rsa only) */
  format?: 'openssh' | 'pem'
  /** ssh-keygen requires at least 5 characters; empty or absent = unencrypted */
  passphrase?: string
  comment?: string
}

export interface KeyPair {
  /** the private key file's text, with its trailing newline */
  privateKeyText: string
  /** `ssh-ed25519 AAAA... comment` (no trailing newline) */
  publicKey: string
}

/** Writes a new key pair to `path` and `path.pub`. */
export async function generateKeyFile(path: string, opts: MakeKeyOptions): Promise<KeyPair> {
  if (opts.format === 'pem' && opts.type !== 'rsa') {
    // ssh-keygen silently writes OpenSSH format for ed25519 with -m PEM.
    throw new Error('PEM format is only available for rsa keys')
  }
  const argv = ['ssh-keygen', '-q', '-t', opts.type, '-f', path]
  if (opts.type === 'rsa') argv.push('-b', '2048') // the smallest accepted size: fast to make
  if (opts.format === 'pem') argv.push('-m', 'PEM')
  argv.push('-N', opts.passphrase ?? '', '-C', opts.comment ?? 'deployrs-fleet')
  await runChecked(argv)
  const [privateKeyText, publicKey] = await Promise.all([
    readFile(path, 'utf8'),
    readFile(`${path}.pub`, 'utf8')
  ])
  return { privateKeyText, publicKey: publicKey.trim() }
}

/** A fresh client key for a test; the files are made in a temp dir and removed. */
export async function makeKey(opts: MakeKeyOptions): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-key-'))
  try {
    return await generateKeyFile(join(dir, 'key'), opts)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** `[127.0.0.N]:PORT ssh-ed25519 AAAA...` from a host's public key (comment dropped). */
export function knownHostsLine(address: string, port: number, publicKey: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/)
  if (!type || !blob) throw new Error(`not a public key line: ${publicKey}`)
  const host = port === 22 ? address : `[${address}]:${port}`
  return `${host} ${type} ${blob}`
}
