import { describe, expect, it } from '@jest/globals'
import { InputError, readSettings } from '../../../src/inputs.js'

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n'

function settingsWith(inputs: Record<string, string>) {
  return readSettings(name => (name === 'ssh-private-key' ? KEY : (inputs[name] ?? '')))
}

describe('health-check and health-timeout inputs', () => {
  it('default to the systemd check on hosts that have it, 120 s', () => {
    const settings = settingsWith({})
    expect(settings.healthCheck).toEqual({ kind: 'systemd', requireSystemctl: false })
    expect(settings.healthTimeoutMs).toBe(120_000)
  })

  it('read systemd, false and a command', () => {
    expect(settingsWith({ 'health-check': 'systemd' }).healthCheck).toEqual({
      kind: 'systemd',
      requireSystemctl: true
    })
    expect(settingsWith({ 'health-check': 'false' }).healthCheck).toEqual({ kind: 'off' })
    expect(
      settingsWith({ 'health-check': 'curl -fsS http://localhost:8080/healthz' }).healthCheck
    ).toEqual({ kind: 'command', command: 'curl -fsS http://localhost:8080/healthz' })
    expect(settingsWith({ 'health-timeout': '0.5' }).healthTimeoutMs).toBe(500)
  })

  it('reject a timeout that is no number of seconds, with the other problems', () => {
    let error: unknown
    try {
      settingsWith({ 'health-timeout': '2m', parallel: '0' })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).problems).toEqual(
      expect.arrayContaining([
        'health-timeout: got "2m"; expected seconds greater than 0 and at most 86400, fractions allowed (e.g. 120 or 0.5).'
      ])
    )
  })
})
