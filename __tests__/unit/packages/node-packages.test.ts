import { describe, it, expect } from '@jest/globals'
import { nodePackages, pathsToList } from '../../../src/packages/node-packages.js'
import type { ClosureAnswer, CurrentGeneration } from '../../../src/packages/remote.js'

const store = (hash: string, name: string) => `/nix/store/${hash.repeat(32).slice(0, 32)}-${name}`
const SYS_OLD = store('a', 'nixos-system-web')
const SYS_NEW = store('b', 'nixos-system-web')
const HOME_OLD = store('c', 'home')
const HOME_NEW = store('d', 'home')
const OPENSSL_OLD = store('f', 'openssl-3.0.13')
const OPENSSL_NEW = store('g', 'openssl-3.0.14')
const JQ = store('h', 'jq-1.7.1')

const current = (profile: string, storePath: string | null): CurrentGeneration => ({
  profile,
  profilePath: `/p/${profile}`,
  storePath,
  reason: storePath === null ? `no generation at /p/${profile}` : null
})
const listed = (storePath: string, sizes: [string, number][]): ClosureAnswer => ({
  storePath,
  listing: { paths: sizes.map(([p]) => p), narSizes: new Map(sizes) },
  error: null
})

describe('a node’s packages from its host’s answers', () => {
  it('lists each known current and each new path once', () => {
    expect(
      pathsToList([current('system', SYS_OLD), current('home', null)], [SYS_NEW, HOME_NEW, SYS_NEW])
    ).toEqual([SYS_OLD, SYS_NEW, HOME_NEW])
  })

  it('diffs the union of the profiles’ closures', () => {
    const result = nodePackages(
      [current('system', SYS_OLD), current('home', HOME_OLD)],
      [SYS_NEW, HOME_NEW],
      [
        listed(SYS_OLD, [
          [SYS_OLD, 10],
          [OPENSSL_OLD, 100]
        ]),
        listed(SYS_NEW, [
          [SYS_NEW, 10],
          [OPENSSL_NEW, 120]
        ]),
        listed(HOME_OLD, [
          [HOME_OLD, 5],
          [OPENSSL_OLD, 100]
        ]),
        listed(HOME_NEW, [
          [HOME_NEW, 5],
          [OPENSSL_NEW, 120],
          [JQ, 7]
        ])
      ]
    )
    expect(result).toEqual({
      packages: {
        upgraded: [{ name: 'openssl', from: '3.0.13', to: '3.0.14' }],
        downgraded: [],
        added: [{ name: 'jq', version: '1.7.1' }],
        removed: [],
        sizeDelta: 27
      },
      note: null
    })
  })

  it('no current generation (first deploy): unknown, with the reason', () => {
    expect(
      nodePackages([current('system', null)], [SYS_NEW], [listed(SYS_NEW, [[SYS_NEW, 1]])])
    ).toEqual({
      packages: null,
      note: 'current generation of system unknown: no generation at /p/system'
    })
  })

  it('a closure the host could not list: unknown, saying which', () => {
    const result = nodePackages(
      [current('system', SYS_OLD)],
      [SYS_NEW],
      [
        listed(SYS_OLD, [[SYS_OLD, 1]]),
        { storePath: SYS_NEW, listing: null, error: 'nix path-info exited with 1' }
      ]
    )
    expect(result).toEqual({
      packages: null,
      note: `closure of ${SYS_NEW} unknown: nix path-info exited with 1`
    })
  })

  it('sizes unknown for one closure: packages known, size null', () => {
    const result = nodePackages(
      [current('system', SYS_OLD)],
      [SYS_NEW],
      [
        listed(SYS_OLD, [[SYS_OLD, 1]]),
        { storePath: SYS_NEW, listing: { paths: [SYS_NEW, JQ], narSizes: null }, error: null }
      ]
    )
    expect(result.packages).toMatchObject({
      added: [{ name: 'jq', version: '1.7.1' }],
      sizeDelta: null
    })
  })
})
