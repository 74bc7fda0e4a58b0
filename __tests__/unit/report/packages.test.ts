import { describe, it, expect } from '@jest/globals'
import type { PackageDiff } from '../../../src/packages/closure-diff.js'
import {
  formatSizeDelta,
  packageCounts,
  packagesCell,
  renderPackages,
  type NodePackagesView
} from '../../../src/report/packages.js'

const diff = (over: Partial<PackageDiff> = {}): PackageDiff => ({
  upgraded: [],
  downgraded: [],
  added: [],
  removed: [],
  sizeDelta: null,
  ...over
})

const OPENSSL = { name: 'openssl', from: '3.0.13', to: '3.0.14' }
const LINUX = { name: 'linux', from: '6.6.30', to: '6.6.31' }

describe('package counts', () => {
  it('says ↑ + − and the size change; ↓ only when something went down', () => {
    expect(
      packageCounts(
        diff({
          upgraded: [OPENSSL, LINUX, { name: 'a', from: '1', to: '2' }],
          added: [{ name: 'forgejo', version: '7.0.1' }],
          sizeDelta: 12 * 1024 * 1024
        })
      )
    ).toBe('3 ↑ · 1 + · 0 − · +12.0 MiB')
    expect(packageCounts(diff({ downgraded: [OPENSSL], sizeDelta: -2048 }))).toBe(
      '0 ↑ · 1 ↓ · 0 + · 0 − · −2.0 KiB'
    )
    expect(packageCounts(diff())).toBe('0 ↑ · 0 + · 0 −')
    expect(formatSizeDelta(0)).toBe('±0 B')
  })

  it('the table cell: counts, "unknown" with a note, "—" for a node never reached', () => {
    expect(packagesCell({ node: 'a', packages: diff({ upgraded: [OPENSSL] }), note: null })).toBe(
      '1 ↑ · 0 + · 0 −'
    )
    expect(packagesCell({ node: 'a', packages: null, note: 'first deploy' })).toBe('unknown')
    expect(packagesCell({ node: 'a', packages: null, note: null })).toBe('—')
  })
})

describe('the Packages section', () => {
  it('lists each node’s changes collapsed, downgrades, additions and removals marked', () => {
    const text = renderPackages(
      [
        {
          node: 'web',
          packages: diff({
            upgraded: [LINUX],
            downgraded: [{ name: 'nginx', from: '1.26.1', to: '1.24.0' }],
            added: [{ name: 'forgejo', version: '7.0.1' }],
            removed: [{ name: 'curl', version: '8.7.1' }],
            sizeDelta: 1024
          }),
          note: null
        }
      ],
      { listLimit: 50 }
    )
    expect(text).toBe(
      [
        '### Packages',
        '',
        '<details>',
        '<summary>web: 1 ↑ · 1 ↓ · 1 + · 1 − · +1.0 KiB</summary>',
        '',
        '- linux 6.6.30 → 6.6.31',
        '- nginx 1.26.1 → 1.24.0 (downgrade)',
        '- \\+ forgejo 7.0.1',
        '- − curl 8.7.1',
        '',
        '</details>'
      ].join('\n')
    )
  })

  it('says a change every node shares once, and per node only the rest', () => {
    const nodes: NodePackagesView[] = ['a', 'b', 'c', 'd', 'e'].map(node => ({
      node,
      packages: diff({ upgraded: node === 'c' ? [LINUX, OPENSSL] : [OPENSSL] }),
      note: null
    }))
    const text = renderPackages(nodes, { listLimit: 50 })
    expect(text).toContain('**On all 5 nodes:** openssl 3.0.13 → 3.0.14\n')
    expect(text.match(/openssl/g)).toHaveLength(1)
    expect(text).toContain(
      '<summary>c: 2 ↑ · 0 + · 0 − (1 of its own)</summary>\n\n- linux 6.6.30 → 6.6.31'
    )
    expect(text).toContain('- **a**: 1 ↑ · 0 + · 0 −, only the changes shared by all')
  })

  it('a node whose packages are unknown says why; nodes never reached are left out', () => {
    const text = renderPackages(
      [
        {
          node: 'new',
          packages: null,
          note: 'current generation of system unknown: no generation at /p'
        },
        { node: 'gone', packages: null, note: null },
        { node: 'same', packages: diff({ sizeDelta: 0 }), note: null }
      ],
      { listLimit: 50 }
    )
    expect(text).toContain(
      '- **new**: packages unknown: current generation of system unknown: no generation at /p'
    )
    expect(text).not.toContain('gone')
    expect(text).toContain('- **same**: no package changes')
  })

  it('cuts long lists with "and N more"', () => {
    const upgraded = Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, from: '1', to: '2' }))
    const text = renderPackages([{ node: 'web', packages: diff({ upgraded }), note: null }], {
      listLimit: 10
    })
    expect(text.match(/^- p\d+ 1 → 2$/gm)).toHaveLength(10)
    expect(text).toContain('- and 20 more')
  })

  it('escapes names: no Markdown, HTML or mentions get through', () => {
    const text = renderPackages(
      [
        {
          node: '<b>@team</b>',
          packages: diff({ added: [{ name: 'x_y_z', version: '1.0' }] }),
          note: null
        }
      ],
      { listLimit: 5 }
    )
    expect(text).not.toContain('<b>')
    expect(text).not.toContain('@team')
    expect(text).toContain('x\\_y\\_z')
  })

  it('stays small at 100 nodes × 2,000 changes: per node the list limit, and counts only at 0', () => {
    const nodes: NodePackagesView[] = Array.from({ length: 100 }, (_, n) => ({
      node: `node-${n}`,
      packages: diff({
        upgraded: Array.from({ length: 2000 }, (_, i) => ({
          name: `package-with-a-long-name-${n}-${i}`,
          from: '1.2.3.4.5',
          to: '1.2.3.4.6'
        })),
        sizeDelta: 123456789
      }),
      note: null
    }))
    const lengths = [30, 10, 0].map(listLimit => renderPackages(nodes, { listLimit }).length)
    // 100 nodes × (limit + 2) lines of at most ~80 characters, plus the summary lines
    expect(lengths[0]).toBeLessThan(100 * 32 * 80 + 100 * 120)
    expect(lengths[1]).toBeLessThan(100 * 12 * 80 + 100 * 120)
    // counts only: the table has them, so no section at all
    expect(lengths[2]).toBe(0)
    // the PR comment's limit (65,536 characters) is met at 10 per node or at counts only
    expect(Math.min(...lengths)).toBeLessThan(65_536)
  })
})
