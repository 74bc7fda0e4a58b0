import { describe, it, expect } from '@jest/globals'
import { createHash } from 'node:crypto'
import { diffClosures, type ClosureListing } from '../../../src/packages/closure-diff.js'
import { packageOfStorePath } from '../../../src/packages/path-package.js'
import { pairVersions } from '../../../src/packages/version-pairing.js'

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz'

/** A store path for a name; `build` tells two builds of one name apart. */
function storePath(name: string, build = ''): string {
  const digest = createHash('sha256').update(`${name}\0${build}`).digest()
  let hash = ''
  for (let i = 0; i < 32; i++) hash += NIX_BASE32[digest[i] % 32]
  return `/nix/store/${hash}-${name}`
}

function closure(names: string[], sizes?: Record<string, number>): ClosureListing {
  const paths = names.map(name => storePath(name))
  if (sizes === undefined) return { paths }
  return { paths, narSizes: new Map(names.map(name => [storePath(name), sizes[name] ?? NaN])) }
}

const EMPTY = { upgraded: [], downgraded: [], added: [], removed: [] }

describe('packageOfStorePath', () => {
  it.each([
    ['openssl-3.0.13', { name: 'openssl', version: '3.0.13' }],
    ['openssl-3.0.13-bin', { name: 'openssl', version: '3.0.13' }],
    ['linux-6.6.30-modules', { name: 'linux', version: '6.6.30' }],
    ['glibc-2.39-52-lib64', { name: 'glibc', version: '2.39-52' }],
    ['util-linux-2.39.4-lib', { name: 'util-linux', version: '2.39.4' }],
    [
      'hello-wayland-0-unstable-2024-04-14',
      { name: 'hello-wayland', version: '0-unstable-2024-04-14' }
    ],
    [
      'nixos-system-web-24.05.20240601.abcdef1',
      { name: 'nixos-system-web', version: '24.05.20240601.abcdef1' }
    ]
  ])('%s is %j', (name, expected) => {
    expect(packageOfStorePath(storePath(name))).toEqual(expected)
  })

  it.each([
    'etc',
    'source',
    'system-units',
    'unit-nginx.service',
    'unit-script-nginx-start',
    'X-Restart-Triggers-nginx',
    'foo-bin'
  ])('%s has no version', name => {
    expect(packageOfStorePath(storePath(name))).toBeNull()
  })
})

describe('diffClosures', () => {
  it('reports an upgrade, a downgrade, an addition and a removal, sorted by name', () => {
    const current = closure(['zlib-1.3.1', 'openssl-3.0.13', 'nginx-1.26.1', 'curl-8.7.1', 'etc'])
    const next = closure(['zlib-1.3.1', 'openssl-3.0.14', 'nginx-1.24.0', 'jq-1.7.1', 'etc'])
    expect(diffClosures(current, next)).toEqual({
      upgraded: [{ name: 'openssl', from: '3.0.13', to: '3.0.14' }],
      downgraded: [{ name: 'nginx', from: '1.26.1', to: '1.24.0' }],
      added: [{ name: 'jq', version: '1.7.1' }],
      removed: [{ name: 'curl', version: '8.7.1' }],
      sizeDelta: null
    })
  })

  it('uses Nix version order, not text order (1.10 is newer than 1.9, 2.3pre1 older than 2.3)', () => {
    expect(diffClosures(closure(['a-1.9', 'b-2.3']), closure(['a-1.10', 'b-2.3pre1']))).toEqual({
      ...EMPTY,
      upgraded: [{ name: 'a', from: '1.9', to: '1.10' }],
      downgraded: [{ name: 'b', from: '2.3', to: '2.3pre1' }],
      sizeDelta: null
    })
  })

  it('finds nothing between identical closures, whatever their order', () => {
    const names = ['linux-6.6.30', 'openssl-3.0.13', 'etc', 'nginx-1.26.1']
    expect(diffClosures(closure(names), closure([...names].reverse()))).toEqual({
      ...EMPTY,
      sizeDelta: null
    })
  })

  it('sees a rebuild at the same version only in the size', () => {
    const before = storePath('openssl-3.0.13', 'first build')
    const after = storePath('openssl-3.0.13', 'second build')
    expect(before).not.toBe(after)
    expect(
      diffClosures(
        { paths: [before], narSizes: new Map([[before, 4]]) },
        { paths: [after], narSizes: new Map([[after, 10]]) }
      )
    ).toEqual({ ...EMPTY, sizeDelta: 6 })
  })

  it('counts one package with several outputs as one version', () => {
    const current = closure(['openssl-3.0.13', 'openssl-3.0.13-bin', 'openssl-3.0.13-dev'])
    const next = closure(['openssl-3.0.14', 'openssl-3.0.14-bin'])
    expect(diffClosures(current, next).upgraded).toEqual([
      { name: 'openssl', from: '3.0.13', to: '3.0.14' }
    ])
  })

  describe('several versions of one package in a closure', () => {
    it('pairs each old python with its own successor', () => {
      const current = closure(['python3-3.11.8', 'python3-3.12.4'])
      const next = closure(['python3-3.11.9', 'python3-3.12.5'])
      expect(diffClosures(current, next).upgraded).toEqual([
        { name: 'python3', from: '3.11.8', to: '3.11.9' },
        { name: 'python3', from: '3.12.4', to: '3.12.5' }
      ])
    })

    it('leaves an unchanged version out, and reports a dropped one as removed', () => {
      const current = closure(['python3-3.11.9', 'python3-3.12.4'])
      const next = closure(['python3-3.12.4'])
      expect(diffClosures(current, next)).toEqual({
        ...EMPTY,
        removed: [{ name: 'python3', version: '3.11.9' }],
        sizeDelta: null
      })
    })

    it('pairs an old version with the closest new one, the other is added', () => {
      const current = closure(['python3-3.11.8'])
      const next = closure(['python3-3.11.9', 'python3-3.12.0'])
      expect(diffClosures(current, next)).toEqual({
        ...EMPTY,
        upgraded: [{ name: 'python3', from: '3.11.8', to: '3.11.9' }],
        added: [{ name: 'python3', version: '3.12.0' }],
        sizeDelta: null
      })
    })

    it('pairs the newer ones when both sides gained and lost one', () => {
      const current = closure(['python3-3.11.8', 'python3-3.12.4'])
      const next = closure(['python3-3.12.5'])
      expect(diffClosures(current, next)).toEqual({
        ...EMPTY,
        upgraded: [{ name: 'python3', from: '3.12.4', to: '3.12.5' }],
        removed: [{ name: 'python3', version: '3.11.8' }],
        sizeDelta: null
      })
    })
  })

  describe('sizeDelta', () => {
    it('is new minus current, unversioned paths included', () => {
      const current = closure(['openssl-3.0.13', 'etc', 'unit-nginx.service'], {
        'openssl-3.0.13': 1000,
        etc: 200,
        'unit-nginx.service': 30
      })
      const next = closure(['openssl-3.0.13', 'etc', 'nginx-conf'], {
        'openssl-3.0.13': 1000,
        etc: 250,
        'nginx-conf': 5
      })
      expect(diffClosures(current, next)).toEqual({ ...EMPTY, sizeDelta: 25 })
    })

    it('may be negative', () => {
      expect(
        diffClosures(closure(['a-1'], { 'a-1': 900 }), closure(['a-1'], { 'a-1': 0 })).sizeDelta
      ).toBe(-900)
    })

    it('is null when one path of either closure has no known size', () => {
      const sized = closure(['a-1', 'etc'], { 'a-1': 5, etc: 1 })
      const missing: ClosureListing = {
        paths: sized.paths,
        narSizes: new Map([[sized.paths[0], 5]])
      }
      expect(diffClosures(sized, missing).sizeDelta).toBeNull()
      expect(diffClosures(missing, sized).sizeDelta).toBeNull()
      expect(diffClosures(sized, { paths: sized.paths }).sizeDelta).toBeNull()
      expect(diffClosures(sized, sized).sizeDelta).toBe(0)
    })

    it('counts a path listed twice once', () => {
      const once = closure(['a-1'], { 'a-1': 7 })
      const twice = { paths: [...once.paths, ...once.paths], narSizes: once.narSizes }
      expect(diffClosures(twice, closure([], {})).sizeDelta).toBe(-7)
    })
  })

  it('diffs two 20,000-path closures', () => {
    const names = (generation: number) =>
      Array.from({ length: 20_000 }, (_, i) =>
        i % 4 === 3 ? `unit-${i}.service` : `pkg${i}-${i % 7 === 0 ? generation : 1}.${i}`
      )
    const sizes = (list: string[]) => Object.fromEntries(list.map((name, i) => [name, i]))
    const current = closure(names(1), sizes(names(1)))
    const next = closure(names(2), sizes(names(2)))
    const diff = diffClosures(current, next)
    const changed = Array.from({ length: 20_000 }, (_, i) => i).filter(
      i => i % 7 === 0 && i % 4 !== 3
    )
    expect(diff.upgraded).toHaveLength(changed.length)
    expect(diff.upgraded[0]).toEqual({ name: 'pkg0', from: '1.0', to: '2.0' })
    expect(diff.downgraded).toEqual([])
    expect(diff.sizeDelta).toBe(0)
    // Sorted by name in code unit order.
    const sortedNames = diff.upgraded.map(c => c.name)
    expect(sortedNames).toEqual([...sortedNames].sort())
  })
})

describe('pairVersions', () => {
  it('zips equal counts in version order', () => {
    expect(pairVersions(['1.1', '1.0'], ['2.1', '2.0'])).toEqual({
      pairs: [
        { from: '1.0', to: '2.0' },
        { from: '1.1', to: '2.1' }
      ],
      removed: [],
      added: []
    })
  })

  it('keeps every version when one side is empty', () => {
    expect(pairVersions(['2', '10'], [])).toEqual({ pairs: [], removed: ['2', '10'], added: [] })
  })

  it('pairs newest with newest beyond the matching limit', () => {
    const removed = Array.from({ length: 600 }, (_, i) => `1.${i}`)
    const added = Array.from({ length: 500 }, (_, i) => `2.${i}`)
    const pairing = pairVersions(removed, added)
    expect(pairing.pairs).toHaveLength(500)
    expect(pairing.pairs.at(-1)).toEqual({ from: '1.599', to: '2.499' })
    expect(pairing.removed).toEqual(removed.slice(0, 100))
  })
})
