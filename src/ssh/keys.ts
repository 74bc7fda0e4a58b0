import { ExpectedError } from '../errors.js'

/**
 * Turns the ssh-private-key secret into clean key texts, whatever shape it
 * arrived in: Windows line endings, no trailing newline, blank lines around
 * it, several keys one after another, or a key pasted onto one line.
 * Messages never quote key material.
 */
export class KeyFormatError extends ExpectedError {}

const BLOCK = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g

export function splitPrivateKeys(secret: string): string[] {
  const text = secret.replace(/\r\n?/g, '\n')
  const keys: string[] = []
  for (const match of text.matchAll(BLOCK)) {
    keys.push(normaliseBlock(match[1], match[2]))
  }
  if (keys.length === 0) {
    const sawPublicKey = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-\S+) AAAA/m.test(text)
    const sawBegin = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)
    throw new KeyFormatError(
      sawPublicKey
        ? 'ssh-private-key: this is a public key; put the PRIVATE key in the secret (the file without .pub).'
        : sawBegin
          ? 'ssh-private-key: a key starts with -----BEGIN ... PRIVATE KEY----- but its matching -----END ... PRIVATE KEY----- line is missing; paste the whole key file into the secret.'
          : `ssh-private-key: no private key found in ${countLines(text)} line(s); expected an OpenSSH or PEM private key starting with -----BEGIN OPENSSH PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----.`
    )
  }
  return keys
}

/** Rebuilds one key block with \n line endings, its PEM headers kept, and a final newline. */
function normaliseBlock(label: string, body: string): string {
  let lines = body
    .split('\n')
    .map(line => line.trim())
    .filter((line, index, all) => line !== '' || (index > 0 && isPemHeader(all[index - 1])))
  // A key pasted onto one line (newlines turned into spaces) has a single body line with blanks in it.
  if (lines.length === 1 && /\s/.test(lines[0])) lines = joinHeaderWords(lines[0].split(/\s+/))
  const headerEnd = lines.findLastIndex(isPemHeader)
  const headers = headerEnd === -1 ? [] : [...lines.slice(0, headerEnd + 1), '']
  const base64 = lines.slice(headerEnd + 1).filter(line => line !== '')
  return [`-----BEGIN ${label}-----`, ...headers, ...base64, `-----END ${label}-----`, ''].join(
    '\n'
  )
}

/** In a one-line paste, `Proc-Type:` and its value became two words: put them back together. */
function joinHeaderWords(words: string[]): string[] {
  const lines: string[] = []
  for (let i = 0; i < words.length; i++) {
    if (/^[A-Za-z-]+:$/.test(words[i]) && i + 1 < words.length)
      lines.push(`${words[i]} ${words[++i]}`)
    else lines.push(words[i])
  }
  return lines
}

function isPemHeader(line: string | undefined): boolean {
  return line !== undefined && /^[A-Za-z-]+: /.test(line)
}

/**
 * The keys as the workspace will write them (`splitPrivateKeys`), or none when
 * the secret is not a key: for masking, which must also cover the lines of a
 * key rebuilt from a one-line paste (the runner only knows the pasted line).
 */
export function normalisedPrivateKeys(secret: string): string[] {
  try {
    return splitPrivateKeys(secret)
  } catch {
    return []
  }
}

function countLines(text: string): number {
  return text.split('\n').filter(line => line.trim() !== '').length
}
