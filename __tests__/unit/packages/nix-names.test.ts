import { describe, it, expect } from '@jest/globals'
import {
  compareVersions,
  parseDrvName,
  storePathName,
  versionComponents
} from '../../../src/packages/nix-names.js'

const HASH = '01mdbafgjcg20dfd4dmbvh982i44fiky'

describe('parseDrvName', () => {
  // The cases of Nix's own test, tests/functional/lang/eval-okay-versions.nix.
  it.each([
    ['hello-1.0.2', 'hello', '1.0.2'],
    ['hello', 'hello', ''],
    ['915resolution-0.5.2', '915resolution', '0.5.2'],
    ['xf86-video-i810-1.7.4', 'xf86-video-i810', '1.7.4'],
    ['name-that-ends-with-dash--1.0', 'name-that-ends-with-dash', '-1.0']
  ])('%s → name %s, version %s (Nix test suite)', (full, name, version) => {
    expect(parseDrvName(full)).toEqual({ name, version })
  })

  it.each([
    // The version starts at a dash followed by any non-letter, not only a digit.
    ['foo-.1', 'foo', '.1'],
    ['foo-_bar', 'foo', '_bar'],
    ['foo-+x', 'foo', '+x'],
    ['foo-é', 'foo', 'é'],
    // A dash at the very end is part of the name.
    ['foo-', 'foo-', ''],
    ['-1.0', '', '1.0'],
    ['python3.11-requests-2.32.3', 'python3.11-requests', '2.32.3'],
    ['hello-wayland-0-unstable-2024-04-14', 'hello-wayland', '0-unstable-2024-04-14'],
    ['openssl-3.0.13-bin', 'openssl', '3.0.13-bin'],
    ['', '', '']
  ])('%s → name %s, version %s', (full, name, version) => {
    expect(parseDrvName(full)).toEqual({ name, version })
  })
})

describe('storePathName', () => {
  it('strips the store directory and the hash', () => {
    expect(storePathName(`/nix/store/${HASH}-openssl-3.0.13`)).toBe('openssl-3.0.13')
    expect(storePathName(`/custom/store/${HASH}-etc`)).toBe('etc')
  })

  it('keeps a name whose prefix is not a Nix hash', () => {
    // 'e', 'o', 'u', 't' are not in Nix's base-32 alphabet.
    expect(storePathName('/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x')).toBe(
      'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x'
    )
    expect(storePathName('short-1.0')).toBe('short-1.0')
  })
})

describe('compareVersions', () => {
  const lt = -1
  const eq = 0
  const gt = 1
  // Nix's own cases (eval-okay-versions.nix); like Nix's test, both directions.
  it.each([
    ['1.0', '2.3', lt],
    ['2.1', '2.3', lt],
    ['2.3', '2.3', eq],
    ['2.5', '2.3', gt],
    ['3.1', '2.3', gt],
    ['2.3.1', '2.3', gt],
    ['2.3.1', '2.3a', gt],
    ['2.3pre1', '2.3', lt],
    ['2.3pre3', '2.3pre12', lt],
    ['2.3a', '2.3c', lt],
    ['2.3pre1', '2.3c', lt],
    ['2.3pre1', '2.3q', lt]
  ])('%s vs %s → %d (Nix test suite)', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected)
    expect(compareVersions(b, a)).toBe(0 - expected)
  })

  it.each([
    // Separators only separate: these are equal.
    ['1.0', '1-0', eq],
    ['1.0', '1..0', eq],
    ['1.0.', '1.0', eq],
    ['01', '1', eq],
    // A missing component is '', which is older than a number or a word...
    ['1.0', '1.0a', lt],
    ['1', '1.0', lt],
    // ...but newer than 'pre'.
    ['1.0pre', '1.0', lt],
    ['pre', '', lt],
    ['pre', 'pre', eq],
    ['pre1', 'pre', gt],
    // Words are older than numbers, and compare by their bytes.
    ['a', '0', lt],
    ['B', 'a', lt],
    ['alpha', 'beta', lt],
    ['6.6.30', '6.6.31', lt],
    ['1.10', '1.9', gt],
    ['2024-06-01', '2024-05-31', gt],
    // Beyond a C int, digits are a word to Nix (string2Int<int> fails): older than 5.
    ['2147483647', '5', gt],
    ['2147483648', '5', lt],
    ['20240601123456', '20240601123457', lt],
    ['', '', eq]
  ])('%s vs %s → %d', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected)
    expect(compareVersions(b, a)).toBe(0 - expected)
  })

  it('orders non-ASCII words by their UTF-8 bytes, as C++ strings compare', () => {
    // U+FF21 is one UTF-16 unit above the surrogates, but its UTF-8 bytes sort below U+1F600's.
    expect(compareVersions('\uff21', '\u{1f600}')).toBe(-1)
    expect('\uff21' < '\u{1f600}').toBe(false)
    expect(compareVersions('é', 'z')).toBe(1)
  })
})

describe('versionComponents', () => {
  it('splits at dots and dashes and between digits and the rest', () => {
    expect(versionComponents('2.3pre1')).toEqual(['2', '3', 'pre', '1'])
    expect(versionComponents('-1.0--rc_2+x')).toEqual(['1', '0', 'rc_', '2', '+x'])
    expect(versionComponents('')).toEqual([])
  })
})
