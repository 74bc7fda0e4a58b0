/**
 * Masking of the secret inputs: every line of every form of the key (as
 * pasted, as rebuilt from a one-line paste), the passphrase and the token are
 * given to the runner with setSecret (mocked here), and remembered for the
 * redaction of what the runner does not mask.
 */
import { beforeEach, describe, expect, it, jest } from '@jest/globals'

const setSecret = jest.fn<(secret: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({
  setSecret,
  getInput: jest.fn(() => '')
}))

const { readSettings, maskSecret, maskPrivateKey } = await import('../../../src/inputs.js')
const { forgetSecrets, redactSecrets } = await import('../../../src/secret-registry.js')

const BODY = [
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDc2VjcmV0LWtleS1saW5lLXR3by1vZi10aGUta2V5LW1hdGVyaWFsAAAA',
  // The short tail of the base64: under 8 characters, still key material.
  'c2VjcmV',
  'Qw=='
]
const KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  ...BODY,
  '-----END OPENSSH PRIVATE KEY-----',
  ''
].join('\n')
/** The same key pasted onto one line, its newlines turned into spaces. */
const ONE_LINE = KEY.trim().replace(/\n/g, ' ')

const masked = (): string[] => setSecret.mock.calls.map(([secret]) => secret)

beforeEach(() => {
  setSecret.mockClear()
  forgetSecrets()
})

describe('maskPrivateKey', () => {
  it('masks every base64 line of 4 characters or more, short tail lines included', () => {
    maskPrivateKey(KEY)
    for (const line of BODY) expect(masked()).toContain(line)
  })

  it('masks each line of a key rebuilt from a one-line paste', () => {
    maskPrivateKey(ONE_LINE)
    expect(masked()).toContain(ONE_LINE)
    for (const line of BODY) expect(masked()).toContain(line)
    // The key as the workspace writes it, whole.
    expect(masked()).toContain(KEY)
  })

  it('masks the lines of a key pasted with Windows line endings, trimmed', () => {
    maskPrivateKey(`  ${KEY.replace(/\n/g, '\r\n')}`)
    for (const line of BODY) expect(masked()).toContain(line)
  })

  it('leaves armor lines and 1–3 character lines unmasked (they would blank the whole log)', () => {
    maskPrivateKey(KEY.replace('Qw==', 'Q='))
    expect(masked()).not.toContain('Q=')
    expect(masked()).not.toContain('-----BEGIN OPENSSH PRIVATE KEY-----')
    expect(masked()).not.toContain('-----END OPENSSH PRIVATE KEY-----')
  })

  it('gives each value to the runner once', () => {
    maskPrivateKey(KEY)
    expect(new Set(masked()).size).toBe(masked().length)
  })

  it('masks a secret that is no key as it is', () => {
    maskPrivateKey('not a key at all')
    expect(masked()).toEqual(['not a key at all'])
  })
})

describe('the values are remembered for redaction', () => {
  it('readSettings remembers the passphrase, the token and every key line', () => {
    const passphrase = 'correct horse battery staple'
    const token = 'ghs_abcdefghijklmnopqrstuvwxyz0123456789'
    const values: Record<string, string> = {
      'ssh-private-key': ONE_LINE,
      'ssh-key-passphrase': passphrase,
      'github-token': token,
      targets: 'all',
      'dry-run': 'auto'
    }
    readSettings(name => values[name] ?? '')
    const text = `echo ${passphrase}; ${token}; ${BODY.join(' | ')}`
    expect(redactSecrets(text)).toBe(`echo ***; ***; ${BODY.map(() => '***').join(' | ')}`)
  })

  it('maskSecret (used for the decrypted key) remembers its lines too', () => {
    maskSecret(KEY)
    expect(redactSecrets(`line: ${BODY[0]}`)).toBe('line: ***')
    expect(redactSecrets(KEY)).toBe('***')
  })
})
