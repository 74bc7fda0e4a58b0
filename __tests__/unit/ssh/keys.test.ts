import { describe, expect, it } from '@jest/globals'
import { KeyFormatError, splitPrivateKeys } from '../../../src/ssh/keys.js'

const OPENSSH_BODY = [
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACBHK2Ow6aX6Qkz2fUj1fMpcYcO0fjV/0FmBqJ4ZmqKcQwAAAJhNqbp1Tam6',
  'dQAAAAtzc2gtZWQyNTUxOQAAACBHK2Ow6aX6Qkz2fUj1fMpcYcO0fjV/0FmBqJ4ZmqKcQw=='
]
const OPENSSH = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  ...OPENSSH_BODY,
  '-----END OPENSSH PRIVATE KEY-----',
  ''
].join('\n')

const PEM_ENCRYPTED = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'Proc-Type: 4,ENCRYPTED',
  'DEK-Info: AES-128-CBC,5D4550775F905BAAFF889B8745EEA056',
  '',
  'MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw',
  '7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFc',
  'zGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE',
  '-----END RSA PRIVATE KEY-----',
  ''
].join('\n')

const PEM_PLAIN = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAxyz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN',
  'OPQRSTUVWXYZ+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS',
  '-----END RSA PRIVATE KEY-----',
  ''
].join('\n')

function formatError(secret: string): string {
  try {
    splitPrivateKeys(secret)
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFormatError)
    return (error as Error).message
  }
  throw new Error('accepted')
}

describe('splitPrivateKeys', () => {
  it('keeps a well-formed key as it is', () => {
    expect(splitPrivateKeys(OPENSSH)).toEqual([OPENSSH])
  })

  it('turns Windows (and old Mac) line endings into \\n', () => {
    expect(splitPrivateKeys(OPENSSH.replace(/\n/g, '\r\n'))).toEqual([OPENSSH])
    expect(splitPrivateKeys(OPENSSH.replace(/\n/g, '\r'))).toEqual([OPENSSH])
  })

  it('adds the missing trailing newline (ssh-keygen rejects a key without it)', () => {
    expect(splitPrivateKeys(OPENSSH.trimEnd())).toEqual([OPENSSH])
  })

  it('drops blank lines and blanks around the key and inside it', () => {
    const messy = `\n\n   \r\n  ${OPENSSH.split('\n').join('  \r\n\r\n    ')}\n\n \n`
    expect(splitPrivateKeys(messy)).toEqual([OPENSSH])
  })

  it('splits several keys in one secret, in order', () => {
    expect(splitPrivateKeys(`${OPENSSH}\n\n${PEM_PLAIN}`)).toEqual([OPENSSH, PEM_PLAIN])
    expect(splitPrivateKeys(`${PEM_PLAIN.trimEnd()}${OPENSSH.trimEnd()}`)).toEqual([
      PEM_PLAIN,
      OPENSSH
    ])
  })

  it('keeps the PEM encryption headers and the blank line after them', () => {
    expect(splitPrivateKeys(PEM_ENCRYPTED)).toEqual([PEM_ENCRYPTED])
    expect(splitPrivateKeys(PEM_ENCRYPTED.replace(/\n/g, '\r\n').trimEnd())).toEqual([
      PEM_ENCRYPTED
    ])
  })

  it('restores the blank line after PEM headers when the paste lost it', () => {
    expect(splitPrivateKeys(PEM_ENCRYPTED.replace('EEA056\n\n', 'EEA056\n'))).toEqual([
      PEM_ENCRYPTED
    ])
  })

  it('rebuilds a key pasted onto one line (newlines turned into spaces)', () => {
    expect(splitPrivateKeys(OPENSSH.trimEnd().split('\n').join(' '))).toEqual([OPENSSH])
    expect(splitPrivateKeys(`  ${PEM_PLAIN.trimEnd().split('\n').join('   ')}  `)).toEqual([
      PEM_PLAIN
    ])
  })

  it('rebuilds an encrypted PEM key pasted onto one line, headers included', () => {
    expect(splitPrivateKeys(PEM_ENCRYPTED.trimEnd().split('\n').join(' '))).toEqual([PEM_ENCRYPTED])
  })

  it('accepts the other PRIVATE KEY labels (PKCS#8, EC, encrypted PKCS#8)', () => {
    for (const label of [
      'PRIVATE KEY',
      'EC PRIVATE KEY',
      'ENCRYPTED PRIVATE KEY',
      'DSA PRIVATE KEY'
    ]) {
      const key = `-----BEGIN ${label}-----\nMHcCAQEEIB\n-----END ${label}-----\n`
      expect(splitPrivateKeys(key)).toEqual([key])
    }
  })

  it('says when the secret holds a public key', () => {
    expect(
      formatError(
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host'
      )
    ).toMatch(/^ssh-private-key: this is a public key; put the PRIVATE key in the secret/)
  })

  it('says when the END line is missing', () => {
    expect(formatError(OPENSSH.split('\n').slice(0, -2).join('\n'))).toMatch(
      /^ssh-private-key: .*matching -----END \.\.\. PRIVATE KEY----- line is missing/
    )
  })

  it('does not pair a BEGIN with a different END', () => {
    expect(formatError(OPENSSH.replace('END OPENSSH', 'END RSA'))).toMatch(/END .* line is missing/)
  })

  it('says how many lines it saw when there is no key at all, without quoting them', () => {
    const message = formatError('\nhunter2-secret-material\n\nmore-secret-material\n')
    expect(message).toBe(
      'ssh-private-key: no private key found in 2 line(s); expected an OpenSSH or PEM private key starting with -----BEGIN OPENSSH PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----.'
    )
    expect(formatError('')).toMatch(/in 0 line\(s\)/)
  })

  it('never quotes key material in its messages', () => {
    const broken = OPENSSH.split('\n').slice(0, 3).join('\n')
    const message = formatError(broken)
    for (const line of OPENSSH_BODY) expect(message).not.toContain(line.slice(0, 12))
  })
})
