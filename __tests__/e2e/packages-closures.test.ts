/**
 * The sandbox side of "what a change really changes": real closures in the
 * local Nix store (test-support/fleet/closures.ts), read with the same
 * commands a host will answer (`nix-store --query --requisites`,
 * `nix path-info --recursive --size`), diffed by src/packages.
 */
import { describe, it, expect, afterAll } from '@jest/globals'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import {
  generationPathNames,
  makeGeneration,
  makeLargeGeneration,
  type GenerationSpec
} from '../../test-support/fleet/closures.js'
import { timingTable } from '../../test-support/action/timings.js'
import { diffClosures } from '../../src/packages/closure-diff.js'
import { parsePathInfoSizes, parseRequisites } from '../../src/packages/closure-listing.js'
import { storePathName } from '../../src/packages/nix-names.js'

const execFileAsync = promisify(execFile)
const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes']

async function output(argv: string[]): Promise<string> {
  const [file, ...args] = argv
  const { stdout } = await execFileAsync(file!, args, { maxBuffer: 256 * 1024 * 1024 })
  return stdout
}

const requisites = (path: string) => output(['nix-store', '--query', '--requisites', path])
const pathInfoSizes = (path: string) =>
  output(['nix', ...NIX_FEATURES, 'path-info', '--recursive', '--size', path])
/** `nix path-info --closure-size`: Nix's own total, to check our sum against. */
async function closureSize(path: string): Promise<number> {
  const text = await output(['nix', ...NIX_FEATURES, 'path-info', '--closure-size', path])
  return Number(text.trim().split(/\s+/).at(-1))
}

const timings = timingTable('closure step')
afterAll(() => timings.print())

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await step()
  timings.record(what, 'ok', performance.now() - started)
  return result
}

const CURRENT: GenerationSpec = {
  name: 'nixos-system-web-24.05.20240601.abcdef1',
  packages: {
    linux: '6.6.30',
    openssl: '3.0.13',
    nginx: '1.26.1',
    python3: ['3.11.9', '3.12.4'],
    curl: '8.7.1'
  },
  extras: ['etc', 'system-units', 'unit-nginx.service', 'openssl-3.0.13-bin'],
  references: {
    'nginx-1.26.1': ['openssl-3.0.13'],
    'curl-8.7.1': ['openssl-3.0.13'],
    'unit-nginx.service': ['nginx-1.26.1'],
    'system-units': ['unit-nginx.service']
  },
  payloadBytes: { 'linux-6.6.30': 4000, etc: 100 }
}

const NEXT: GenerationSpec = {
  name: 'nixos-system-web-24.05.20240615.0123456',
  packages: {
    linux: '6.6.31',
    openssl: '3.0.14',
    nginx: '1.24.0',
    python3: ['3.12.5'],
    jq: '1.7.1'
  },
  extras: ['etc', 'system-units', 'unit-nginx.service', 'openssl-3.0.14-bin'],
  references: {
    'nginx-1.24.0': ['openssl-3.0.14'],
    'unit-nginx.service': ['nginx-1.24.0'],
    'system-units': ['unit-nginx.service']
  },
  rebuilt: ['etc'],
  payloadBytes: { 'linux-6.6.31': 4100, etc: 900 }
}

describe('real closures from builtins.toFile', () => {
  it("a generation's closure is exactly its packages, extras and top level", async () => {
    const generation = await timed('make a small generation', () => makeGeneration(CURRENT))
    const listed = parseRequisites(await requisites(generation.topLevel))
    expect(listed.paths.map(storePathName).sort()).toEqual(
      [...generationPathNames(CURRENT), CURRENT.name].sort()
    )
    // References come from the paths each file mentions.
    const references = await output([
      'nix-store',
      '--query',
      '--references',
      generation.paths['nginx-1.26.1']
    ])
    expect(references.trim().split('\n')).toEqual([generation.paths['openssl-3.0.13']])
    // The same description gives the same paths.
    expect((await makeGeneration(CURRENT)).topLevel).toBe(generation.topLevel)
  })

  it('diffs two generations as read from the store', async () => {
    const [current, next] = await Promise.all([makeGeneration(CURRENT), makeGeneration(NEXT)])
    const diff = diffClosures(
      parsePathInfoSizes(await pathInfoSizes(current.topLevel)),
      parsePathInfoSizes(await pathInfoSizes(next.topLevel))
    )
    expect(diff).toEqual({
      upgraded: [
        { name: 'linux', from: '6.6.30', to: '6.6.31' },
        {
          name: 'nixos-system-web',
          from: '24.05.20240601.abcdef1',
          to: '24.05.20240615.0123456'
        },
        { name: 'openssl', from: '3.0.13', to: '3.0.14' },
        { name: 'python3', from: '3.12.4', to: '3.12.5' }
      ],
      downgraded: [{ name: 'nginx', from: '1.26.1', to: '1.24.0' }],
      added: [{ name: 'jq', version: '1.7.1' }],
      removed: [
        { name: 'curl', version: '8.7.1' },
        { name: 'python3', version: '3.11.9' }
      ],
      sizeDelta: (await closureSize(next.topLevel)) - (await closureSize(current.topLevel))
    })
    expect(diff.sizeDelta).toBeGreaterThan(0)
    // Without sizes (`--requisites` only) the packages are the same, the size unknown.
    const withoutSizes = diffClosures(
      parseRequisites(await requisites(current.topLevel)),
      parseRequisites(await requisites(next.topLevel))
    )
    expect(withoutSizes).toEqual({ ...diff, sizeDelta: null })
  })

  it('makes and diffs two 5,000-path closures', async () => {
    const count = 5000
    const [current, next] = await timed(`make two ${count}-path generations`, () =>
      Promise.all([
        makeLargeGeneration({ name: 'big-system-a', count, major: 1 }),
        makeLargeGeneration({ name: 'big-system-b', count, major: 2 })
      ])
    )
    const [currentListing, nextListing] = await timed(
      'nix path-info --recursive --size, both',
      () => Promise.all([pathInfoSizes(current), pathInfoSizes(next)])
    )
    const before = parsePathInfoSizes(currentListing)
    const after = parsePathInfoSizes(nextListing)
    expect(before.paths).toHaveLength(count + 1)
    expect(after.paths).toHaveLength(count + 1)
    const diff = await timed('diffClosures', async () => diffClosures(before, after))
    // pkg0, pkg10, ... moved from 1.N to 2.N; big-system-a/-b have no version.
    expect(diff.upgraded).toHaveLength(count / 10)
    expect(diff.upgraded).toContainEqual({ name: 'pkg4990', from: '1.4990', to: '2.4990' })
    expect(diff.downgraded).toEqual([])
    expect(diff.added).toEqual([])
    expect(diff.removed).toEqual([])
    expect(diff.sizeDelta).toBe((await closureSize(next)) - (await closureSize(current)))
  }, 120_000)
})
