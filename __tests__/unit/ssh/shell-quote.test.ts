import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { shellQuote } from '../../../src/ssh/shell-quote.js'
import { fc, runs } from '../../../test-support/property/fast-check.js'

/** What a real shell makes of `printf %s QUOTED`. */
function throughShell(shell: string, quoted: string): string {
  const result = spawnSync(shell, ['-c', `printf %s ${quoted}`], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${shell}: ${result.stderr}`)
  return result.stdout
}

const NASTY = [
  '',
  "it's",
  "'",
  "''",
  '$(touch /tmp/pwned)',
  '`id`',
  '"$HOME"',
  'a b\tc\nd',
  '\\',
  '*',
  '-n',
  '; rm -rf /',
  '●unit.service'
]

describe('shellQuote', () => {
  for (const shell of ['sh', 'bash']) {
    it(`gives ${shell} back every value unchanged`, () => {
      for (const value of NASTY) expect(throughShell(shell, shellQuote(value))).toBe(value)
    })
  }

  it('gives sh back any string without NUL unchanged (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), value => {
        fc.pre(!value.includes('\0'))
        expect(throughShell('sh', shellQuote(value))).toBe(value)
      }),
      { numRuns: runs(60) }
    )
  })

  it('refuses NUL, which no shell argument can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/)
  })
})
