/**
 * Package names and versions the way Nix itself reads them.
 *
 * The rules are those of NixOS/nix `src/libstore/names.cc`: the `DrvName`
 * constructor (behind `builtins.parseDrvName`) and `compareVersions` with its
 * helpers `nextComponent` and `componentsLT` (behind
 * `builtins.compareVersions`). Our own code, checked against the real
 * `nix eval` by a property test (__tests__/unit/packages/nix-oracle.test.ts).
 */

export interface DrvName {
  name: string
  /** '' when the name has no version. */
  version: string
}

/** Nix's base-32 alphabet: the 32 characters of a store path's hash part. */
const STORE_HASH_PREFIX = /^[0-9a-df-np-sv-z]{32}-/

/**
 * The name part of a store path: `/nix/store/<hash>-openssl-3.0.13` →
 * `openssl-3.0.13`. Only the last path segment counts, so a store mounted
 * elsewhere (`NIX_STORE_DIR`) reads the same.
 */
export function storePathName(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1)
  return STORE_HASH_PREFIX.test(base) ? base.slice(33) : base
}

function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
}

function isAsciiDigit(code: number): boolean {
  return code >= 48 && code <= 57
}

/**
 * `builtins.parseDrvName`: the version starts after the first `-` that is
 * followed by anything but an ASCII letter (a digit, `.`, another `-`, a
 * non-ASCII character...); a `-` at the very end does not count.
 * `name-that-ends-with-dash--1.0` → (`name-that-ends-with-dash`, `-1.0`).
 */
export function parseDrvName(fullName: string): DrvName {
  for (let i = 0; i + 1 < fullName.length; i++) {
    if (fullName.charCodeAt(i) === 45 /* - */ && !isAsciiLetter(fullName.charCodeAt(i + 1))) {
      return { name: fullName.slice(0, i), version: fullName.slice(i + 1) }
    }
  }
  return { name: fullName, version: '' }
}

function isSeparator(code: number): boolean {
  return code === 46 /* . */ || code === 45 /* - */
}

/**
 * Splits a version into Nix's components (`nextComponent`): runs of digits,
 * or runs of anything that is neither a digit nor a separator; `.` and `-`
 * only separate. `2.3pre1` → 2, 3, pre, 1.
 */
export function versionComponents(version: string): string[] {
  const components: string[] = []
  let i = 0
  while (i < version.length) {
    while (i < version.length && isSeparator(version.charCodeAt(i))) i++
    if (i === version.length) break
    const start = i
    if (isAsciiDigit(version.charCodeAt(i))) {
      while (i < version.length && isAsciiDigit(version.charCodeAt(i))) i++
    } else {
      while (
        i < version.length &&
        !isAsciiDigit(version.charCodeAt(i)) &&
        !isSeparator(version.charCodeAt(i))
      )
        i++
    }
    components.push(version.slice(start, i))
  }
  return components
}

const INT_MAX = 2 ** 31 - 1

/**
 * A component's numeric value, or null when Nix does not treat it as a
 * number. Nix parses with `string2Int<int>`: a run of digits beyond a C
 * `int` fails to parse and is then compared as a word (so, in Nix,
 * `compareVersions "2147483648" "5"` is -1).
 */
function numericValue(component: string): number | null {
  if (component === '' || !isAsciiDigit(component.charCodeAt(0))) return null
  const value = Number(component)
  return value <= INT_MAX ? value : null
}

/** Byte order of the UTF-8 encodings, as C++ `std::string` compares them. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0
  // Code point order is UTF-8 byte order; UTF-16 code unit order is not.
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i) ?? 0
    const y = b.codePointAt(i) ?? 0
    if (x !== y) return x < y ? -1 : 1
    if (x > 0xffff) i++
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0
}

/** Nix's `componentsLT`: is component `a` older than `b`? */
function componentLess(a: string, b: string): boolean {
  const aNumber = numericValue(a)
  const bNumber = numericValue(b)
  if (aNumber !== null && bNumber !== null) return aNumber < bNumber
  if (a === '' && bNumber !== null) return true
  if (a === 'pre' && b !== 'pre') return true
  if (b === 'pre') return false
  // A word is older than a number: 2.3a < 2.3.1.
  if (bNumber !== null) return true
  if (aNumber !== null) return false
  return compareBytes(a, b) < 0
}

/**
 * `builtins.compareVersions`: -1, 0 or 1. Components are compared pairwise, a
 * missing one reading as ''; `pre` is older than anything else, '' older than
 * a number or a word (1.0 < 1.0a, but 1.0pre1 < 1.0).
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0
  const aComponents = versionComponents(a)
  const bComponents = versionComponents(b)
  const length = Math.max(aComponents.length, bComponents.length)
  for (let i = 0; i < length; i++) {
    const x = aComponents[i] ?? ''
    const y = bComponents[i] ?? ''
    if (componentLess(x, y)) return -1
    if (componentLess(y, x)) return 1
  }
  return 0
}
