/**
 * parseDrvName and compareVersions against the real Nix: generated cases are
 * evaluated by `nix eval` in ONE call per run (a file holding two lists), so
 * the property stays fast; any case where our answer differs is a failure.
 * Needs `nix` on PATH (scripts/setup-system.sh installs Debian's nix-bin).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fc, runs } from '../../../test-support/property/fast-check.js'
import { compareVersions, parseDrvName, type DrvName } from '../../../src/packages/nix-names.js'

const execFileAsync = promisify(execFile)

/** A Nix string literal: every `\`, `"` and `$` escaped, so nothing interpolates. */
function nixLiteral(value: string): string {
  const escaped = value
    .replace(/[\\"$]/g, c => `\\${c}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
  return `"${escaped}"`
}

// Pieces that exercise every branch of Nix's rules: numbers (with leading
// zeros, and beyond a C int), `pre`, other words, separators, characters
// that are neither, non-ASCII (UTF-8 order differs from UTF-16 order).
const versionPiece = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[0-9]{1,3}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{9,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('2147483647', '2147483648', '0000000000001') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('pre', 'a', 'b', 'rc', 'alpha', 'unstable', 'Z', 'p', 'bin')
  },
  { weight: 4, arbitrary: fc.constantFrom('.', '-', '..', '-.', '.-') },
  { weight: 1, arbitrary: fc.constantFrom('_', '+', '~', ' ', '"$') },
  { weight: 2, arbitrary: fc.constantFrom('é', '\uff21', '\u{1f600}', '\u{10000}') }
)
const versionText = fc.array(versionPiece, { maxLength: 7 }).map(pieces => pieces.join(''))
/** Two versions sharing a prefix, so comparisons often go deep. */
const versionPair = fc
  .tuple(versionText, versionText, versionText)
  .map(([shared, a, b]): [string, string] => [shared + a, shared + b])

const namePiece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('foo', 'Bar', 'x', 'python3.11', 'lib', 'é') },
  { weight: 3, arbitrary: fc.constantFrom('-', '--', '.', '_', '+', '=', '?') },
  { weight: 3, arbitrary: fc.stringMatching(/^[0-9]{1,3}$/) }
)
const drvNameText = fc.array(namePiece, { maxLength: 8 }).map(pieces => pieces.join(''))

interface NixAnswers {
  compared: number[]
  parsed: DrvName[]
}

const seed = fc.readConfigureGlobal().seed ?? Date.now() % 2 ** 31
const pairs = fc.sample(versionPair, { seed, numRuns: runs(400) })
const names = fc.sample(drvNameText, { seed: seed + 1, numRuns: runs(400) })

let dir: string
let nix: NixAnswers

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nix-oracle-'))
  const file = join(dir, 'cases.nix')
  const compared = pairs.map(
    ([a, b]) => `(builtins.compareVersions ${nixLiteral(a)} ${nixLiteral(b)})`
  )
  const parsed = names.map(name => `(builtins.parseDrvName ${nixLiteral(name)})`)
  await writeFile(
    file,
    `{\n compared = [\n${compared.join('\n')}\n];\n parsed = [\n${parsed.join('\n')}\n];\n}\n`
  )
  const { stdout } = await execFileAsync(
    'nix',
    ['--extra-experimental-features', 'nix-command flakes', 'eval', '--json', '--file', file],
    { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }
  )
  nix = JSON.parse(stdout) as NixAnswers
}, 150_000)

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** The failing cases, shortest first, with the seed that replays them. */
function mismatches<T>(cases: T[], ours: (c: T) => unknown, theirs: (i: number) => unknown) {
  return cases
    .map((c, i) => ({ case: c, ours: ours(c), nix: theirs(i) }))
    .filter(m => JSON.stringify(m.ours) !== JSON.stringify(m.nix))
    .filter((m, i, all) => all.findIndex(o => o.case === m.case) === i)
    .sort((x, y) => JSON.stringify(x.case).length - JSON.stringify(y.case).length)
    .slice(0, 5)
    .map(m => ({ ...m, seed }))
}

describe('agreement with the real nix (one nix eval per run)', () => {
  it('answered every generated case', () => {
    expect(nix.compared).toHaveLength(pairs.length)
    expect(nix.parsed).toHaveLength(names.length)
  })

  it('compareVersions gives what builtins.compareVersions gives', () => {
    expect(
      mismatches(
        pairs,
        ([a, b]) => compareVersions(a, b),
        i => nix.compared[i]
      )
    ).toEqual([])
    // The generator reaches all three answers (else the check proves little).
    expect(new Set(nix.compared)).toEqual(new Set([-1, 0, 1]))
  })

  it('parseDrvName gives what builtins.parseDrvName gives', () => {
    expect(
      mismatches(
        names,
        name => parseDrvName(name),
        i => nix.parsed[i]
      )
    ).toEqual([])
    expect(nix.parsed.some(p => p.version === '')).toBe(true)
    expect(nix.parsed.some(p => p.version !== '')).toBe(true)
  })
})
