/** Key secrets in every shape users paste them, against a real sshd. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeKey, startFleet, type Fleet, type KeyPair } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import {
  leftovers,
  runOnFleet,
  statuses,
  visibleText
} from '../../test-support/action/fleet-run.js'

let fleet: Fleet
let encrypted: KeyPair
let pemEncrypted: KeyPair
const PASSPHRASE = 'correct horse battery staple'

beforeAll(async () => {
  ;[encrypted, pemEncrypted] = await Promise.all([
    makeKey({ type: 'ed25519', passphrase: PASSPHRASE }),
    makeKey({ type: 'rsa', format: 'pem', passphrase: PASSPHRASE })
  ])
  fleet = await startFleet({
    nodes: [{ name: 'web' }],
    authorizedKeys: [encrypted.publicKey, pemEncrypted.publicKey]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

describe('ssh-private-key shapes', () => {
  it('accepts Windows line endings and surrounding blank lines', async () => {
    const key = `\r\n\r\n${fleet.clientKey.privateKeyText.replace(/\n/g, '\r\n')}\r\n\r\n`
    const run = await runOnFleet(fleet, { inputs: { 'ssh-private-key': key } })
    expect(statuses(run)).toEqual({ web: 'deployed' })
  }, 60_000)

  it('accepts a key without its trailing newline', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { 'ssh-private-key': fleet.clientKey.privateKeyText.trimEnd() }
    })
    expect(statuses(run)).toEqual({ web: 'deployed' })
  }, 60_000)

  it('accepts several keys in one secret (the right one second)', async () => {
    const other = await makeKey({ type: 'ed25519' })
    const run = await runOnFleet(fleet, {
      inputs: { 'ssh-private-key': `${other.privateKeyText}\n${fleet.clientKey.privateKeyText}` }
    })
    expect(statuses(run)).toEqual({ web: 'deployed' })
  }, 60_000)

  it('decrypts encrypted OpenSSH and PEM keys with the passphrase', async () => {
    for (const key of [encrypted, pemEncrypted]) {
      const run = await runOnFleet(fleet, {
        inputs: { 'ssh-private-key': key.privateKeyText, 'ssh-key-passphrase': PASSPHRASE }
      })
      expect(statuses(run)).toEqual({ web: 'deployed' })
      expect(visibleText(run)).not.toContain(PASSPHRASE)
      // The runner can only mask what the action told it to.
      expect(run.commands).toContainEqual({
        command: 'add-mask',
        properties: '',
        value: PASSPHRASE
      })
    }
  }, 90_000)

  it('fails clearly and at once on an encrypted key without passphrase, never hanging', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { 'ssh-private-key': encrypted.privateKeyText },
      timeoutMs: 30_000
    })
    expect(run.main.code).toBe(1)
    expect(run.main.durationMs).toBeLessThan(20_000)
    expect(run.main.stdout).toMatch(
      /::error::ssh-private-key: the key is encrypted and ssh-key-passphrase is empty/
    )
    expect(statuses(run)).toEqual({ web: 'skipped' })
    expect(await leftovers(run.runnerTemp)).toEqual([])
  }, 60_000)

  it('fails clearly on a wrong passphrase', async () => {
    const run = await runOnFleet(fleet, {
      inputs: {
        'ssh-private-key': encrypted.privateKeyText,
        'ssh-key-passphrase': 'not the passphrase'
      }
    })
    expect(run.main.code).toBe(1)
    expect(run.main.stdout).toMatch(/::error::ssh-key-passphrase: it does not decrypt the key/)
  }, 60_000)

  it('rejects a public key pasted by mistake without printing it', async () => {
    const run = await runOnFleet(fleet, {
      inputs: { 'ssh-private-key': fleet.clientKey.publicKey }
    })
    expect(run.main.code).toBe(1)
    expect(run.main.stdout).toMatch(/::error::ssh-private-key: this is a public key/)
  }, 60_000)
})
