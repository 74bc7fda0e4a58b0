import { describe, expect, it } from '@jest/globals'
import { parseHealthCheck, parseHealthTimeout } from '../../../src/health/mode.js'

describe('health-check input', () => {
  it('reads auto (also the empty default), systemd, false and commands', () => {
    expect(parseHealthCheck('')).toEqual({ kind: 'systemd', requireSystemctl: false })
    expect(parseHealthCheck('auto')).toEqual({ kind: 'systemd', requireSystemctl: false })
    expect(parseHealthCheck(' Systemd ')).toEqual({ kind: 'systemd', requireSystemctl: true })
    expect(parseHealthCheck('false')).toEqual({ kind: 'off' })
    expect(parseHealthCheck('curl -fsS http://localhost/health\n')).toEqual({
      kind: 'command',
      command: 'curl -fsS http://localhost/health'
    })
  })
})

describe('health-timeout input', () => {
  it('reads seconds, fractions allowed, 120 by default', () => {
    expect(parseHealthTimeout('')).toBe(120_000)
    expect(parseHealthTimeout('30')).toBe(30_000)
    expect(parseHealthTimeout(' 0.5 ')).toBe(500)
  })

  it('refuses what is not a positive number of seconds, naming the input', () => {
    for (const bad of ['0', '-1', 'abc', '1e3', '2m', '100000']) {
      expect(() => parseHealthTimeout(bad)).toThrow(/^health-timeout: /)
    }
  })
})
