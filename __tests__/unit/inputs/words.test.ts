import { describe, expect, it } from '@jest/globals'
import { fc, runs } from '../../../test-support/property/fast-check.js'
import { splitWords } from '../../../src/words.js'

describe('splitWords', () => {
  it.each([
    ['', []],
    ['   \n\t ', []],
    ['deploy', ['deploy']],
    ['nix run github:serokell/deploy-rs --', ['nix', 'run', 'github:serokell/deploy-rs', '--']],
    ['  a   b\n\tc  ', ['a', 'b', 'c']],
    ['a\r\nb', ['a', 'b']],
    ['"a b" c', ['a b', 'c']],
    ["'a b' c", ['a b', 'c']],
    ['--ssh-opts="-p 2222"', ['--ssh-opts=-p 2222']],
    ['pre"mid dle"post', ['premid dlepost']],
    ['"" x', ['', 'x']],
    ["''", ['']],
    ['"it\'s"', ["it's"]],
    ['\'say "hi"\'', ['say "hi"']],
    ['"a\\"b"', ['a"b']],
    ["'a\\b'", ['a\\b']],
    ['a\\ b', ['a b']],
    ['a\\\\b', ['a\\b']],
    ['trailing\\', ['trailing\\']],
    ['"multi\nline"', ['multi\nline']]
  ])('%j → %j', (text, expected) => {
    expect(splitWords(text)).toEqual(expected)
  })

  it('expands nothing: no variables, globs, substitutions or separators', () => {
    expect(splitWords('$HOME $(id) `id` *.nix ~ a;b a|b a&&b')).toEqual([
      '$HOME',
      '$(id)',
      '`id`',
      '*.nix',
      '~',
      'a;b',
      'a|b',
      'a&&b'
    ])
  })

  it.each(['"open', "'open", 'a "b c', "x 'y"])('rejects the unterminated quote in %j', text => {
    expect(() => splitWords(text)).toThrow(/^unterminated ["'] quote$/)
  })

  it('round-trips any words that are quoted with single quotes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).filter(word => !word.includes("'")),
          { maxLength: 6 }
        ),
        words => {
          expect(splitWords(words.map(word => `'${word}'`).join(' '))).toEqual(words)
        }
      ),
      { numRuns: runs(100) }
    )
  })

  it('words never contain blanks unless they were quoted or escaped', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter(text => !/["'\\]/.test(text)),
        text => {
          for (const word of splitWords(text)) {
            expect(word).not.toMatch(/\s/)
            expect(word).not.toBe('')
          }
        }
      ),
      { numRuns: runs(100) }
    )
  })
})
