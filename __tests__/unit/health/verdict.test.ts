import { describe, expect, it } from '@jest/globals'
import type { AfterReading, BeforeReading } from '../../../src/health/systemd-check.js'
import {
  commandVerdict,
  OUTPUT_CHARS,
  OUTPUT_LINES,
  outputTail,
  systemdVerdict
} from '../../../src/health/verdict.js'

const listed = (failed: string[]): BeforeReading => ({ kind: 'listed', failed })
function after(failed: string[], overrides: Partial<AfterReading> = {}): AfterReading {
  return {
    kind: 'listed',
    state: failed.length > 0 ? 'degraded' : 'running',
    failed,
    listing: failed.map(unit => `${unit} loaded failed failed x`).join('\n'),
    journals: failed.map(unit => ({ unit, lines: [`${unit} broke`] })),
    ...overrides
  } as AfterReading
}

describe('systemdVerdict', () => {
  it('is healthy when nothing failed', () => {
    expect(systemdVerdict(listed([]), after([]), false, 110)).toEqual({
      health: { ok: true, newlyFailed: [], alreadyFailed: [], output: '' },
      error: null,
      journals: [],
      note: null
    })
  })

  it('is unhealthy for units that failed after the deploy only, with their journals', () => {
    const verdict = systemdVerdict(
      listed(['old.service']),
      after(['old.service', 'nginx.service']),
      false,
      110
    )
    expect(verdict.health).toMatchObject({
      ok: false,
      newlyFailed: ['nginx.service'],
      alreadyFailed: ['old.service']
    })
    expect(verdict.error).toBe('health check: 1 unit failed after the deploy: nginx.service')
    expect(verdict.journals).toEqual([{ unit: 'nginx.service', lines: ['nginx.service broke'] }])
    expect(verdict.health?.output).toContain('-- nginx.service --\nnginx.service broke')
  })

  it('reports units that had failed before but keeps the node healthy', () => {
    const verdict = systemdVerdict(listed(['old.service']), after(['old.service']), true, 110)
    expect(verdict.health).toMatchObject({
      ok: true,
      newlyFailed: [],
      alreadyFailed: ['old.service']
    })
    expect(verdict.error).toBeNull()
    expect(verdict.journals).toEqual([])
  })

  it('names at most five units in the reason', () => {
    const units = Array.from({ length: 7 }, (_, i) => `u${i}.service`)
    expect(systemdVerdict(listed([]), after(units), false, 110).error).toBe(
      'health check: 7 units failed after the deploy: u0.service, u1.service, u2.service, u3.service, u4.service and 2 more'
    )
  })

  it('is unhealthy when the system was still starting after the wait', () => {
    const verdict = systemdVerdict(listed([]), after([], { state: 'starting' }), false, 3)
    expect(verdict.health?.ok).toBe(false)
    expect(verdict.error).toBe(
      'health check: the system was still starting after 3 s (systemctl is-system-running)'
    )
  })

  it('skips hosts without systemd on auto; fails them on systemd', () => {
    const none: BeforeReading = { kind: 'no-systemctl' }
    expect(systemdVerdict(none, after([]), false, 1)).toMatchObject({ health: null, error: null })
    expect(systemdVerdict(none, after([]), false, 1).note).toMatch(/no systemd/)
    const required = systemdVerdict(none, after([]), true, 1)
    expect(required.health?.ok).toBe(false)
    expect(required.error).toMatch(/no systemctl/)
  })

  it('fails a node whose failed units could not be read, saying when', () => {
    expect(
      systemdVerdict(
        { kind: 'unreadable', reason: 'could not connect: ssh: x' },
        after([]),
        false,
        1
      ).error
    ).toBe(
      'health check: could not read the failed units before the deploy: could not connect: ssh: x'
    )
    expect(
      systemdVerdict(listed([]), { kind: 'unreadable', reason: 'cut short' }, false, 1).error
    ).toBe('health check: could not read the failed units after the deploy: cut short')
  })
})

describe('commandVerdict', () => {
  it('decides by the exit status and keeps the output tail', () => {
    expect(commandVerdict(0, 'ok\n', '')).toEqual({
      health: { ok: true, newlyFailed: [], alreadyFailed: [], output: 'ok' },
      error: null,
      journals: [],
      note: null
    })
    const failed = commandVerdict(2, 'checking\n', 'curl: (7) Failed to connect\n')
    expect(failed.health).toMatchObject({
      ok: false,
      output: 'checking\ncurl: (7) Failed to connect'
    })
    expect(failed.error).toBe('health check: the command exited with code 2')
  })
})

describe('outputTail', () => {
  it('keeps the last lines, bounded in lines and characters', () => {
    const many = Array.from({ length: OUTPUT_LINES + 10 }, (_, i) => `line ${i}`).join('\n')
    const tail = outputTail(many).split('\n')
    expect(tail).toHaveLength(OUTPUT_LINES)
    expect(tail.at(-1)).toBe(`line ${OUTPUT_LINES + 9}`)
    const wide = outputTail(Array.from({ length: 10 }, () => 'y'.repeat(OUTPUT_CHARS)).join('\n'))
    expect(wide.length).toBe(OUTPUT_CHARS + 1)
  })
})
