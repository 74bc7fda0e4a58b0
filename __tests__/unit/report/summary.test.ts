import { describe, expect, it } from '@jest/globals'
import { fc, runs } from '../../../test-support/property/fast-check.js'
import type { NodeReport } from '../../../src/model.js'
import { byteLength } from '../../../src/report/markdown.js'
import { renderSummary, SUMMARY_MAX_BYTES } from '../../../src/report/summary.js'
import { context, expectGolden, loadFixture, report, tableRows, toHtml } from './support.js'

const MIB = 1024 * 1024

describe('renderSummary: golden files', () => {
  it('renders the mixed 7-node deploy', () => {
    const { context: ctx, nodes } = loadFixture('mixed-deploy')
    expectGolden('summary-deploy.golden.md', renderSummary(ctx, nodes))
  })

  it('renders the mixed 7-node dry run', () => {
    const { context: ctx, nodes } = loadFixture('mixed-dry-run')
    expectGolden('summary-dry-run.golden.md', renderSummary(ctx, nodes))
  })

  it('reads well as HTML: one row per node, one collapsed section per node that did not succeed', () => {
    const { context: ctx, nodes } = loadFixture('mixed-deploy')
    const html = toHtml(renderSummary(ctx, nodes))
    const rows = tableRows(html)
    expect(rows).toHaveLength(8)
    expect(rows.every(row => row.length === 6)).toBe(true)
    expect(rows.map(row => row[1])).toEqual([
      'Node',
      'web-1',
      'web-2',
      'db-1',
      'edge-1',
      'gw-1',
      'mon-1',
      'cache-1'
    ])
    expect(html.match(/<details>/g)).toHaveLength(6)
    expect(html.match(/<\/details>/g)).toHaveLength(6)
    expect(html.match(/<pre>/g)).toHaveLength(4)
    expect(html).not.toContain('\x1b')
    expect(html).toContain(
      'href="https://github.com/acme/infra/commit/3f9c2a17be04d5e6c8a9b0f1d2e3c4b5a6978812"'
    )
  })

  it('says what would change on a dry run', () => {
    const { context: ctx, nodes } = loadFixture('mixed-dry-run')
    const md = renderSummary(ctx, nodes)
    expect(md).toContain('### What would change (2 of 7 nodes)')
    expect(md).toContain('\n\nNo unit changes: **web-2**.\n\n')
    expect(md).toContain('restart systemd itself')
    expect(md).toContain(
      'No list of changes, because the dry run did not succeed: **cache-1** (❌ failed at build), **edge-1** (📡 unreachable at keyscan)'
    )
    // Only the nodes that would change something get a list item.
    expect(md.match(/^- \*\*/gm)).toHaveLength(2)
  })
})

describe('renderSummary: run-level problems', () => {
  it('shows a run error, a failed flake check and a cancellation as callouts', () => {
    const md = renderSummary(
      context({
        runError: 'evaluating deploy.nodes failed: <boom>',
        checkFailure: ['error: check failed', '</pre>'],
        cancelled: true
      }),
      []
    )
    expect(md).toContain('## 🚫 deploy-rs deploy: no node deployed')
    expect(md).toContain(
      '> [!CAUTION]\n> **The run stopped before deploying:** evaluating deploy.nodes failed: &lt;boom&gt;'
    )
    expect(md).toContain('**`nix flake check` failed**')
    expect(md).toContain('<pre>\nerror: check failed\n&lt;/pre&gt;\n</pre>')
    expect(md).toContain('> [!WARNING]\n> **The job was cancelled.**')
    expect(md).toContain('**Nodes:** none')
  })

  it('leaves out the commit link without a repository URL and the run link without a run URL', () => {
    const md = renderSummary(context({ repositoryUrl: null, runUrl: null }), [report()])
    expect(md).toContain('commit `0123456`')
    expect(md).not.toContain('](')
    expect(md).toContain(
      "📜 Full logs: at the end of this step's log, one collapsed group per node"
    )
  })
})

const HOSTILE_NAME = '<script>alert(1)</script>|x`y\nz'

function hostileNodes(): NodeReport[] {
  return [
    report({ node: HOSTILE_NAME, hostname: 'h|`st`<b>', profiles: ['sys|tem', '`p`'] }),
    report(
      {
        node: '<img src=x onerror=alert(2)>',
        status: 'failed',
        stage: 'activate',
        error: 'bad | thing\n</details><script>alert(3)</script>'
      },
      [
        '</pre><script>alert(4)</script>',
        '| a | b |',
        '::error::injected',
        '\x1b[31mred\x1b[0m',
        '@octocat'
      ]
    )
  ]
}

describe('renderSummary: untrusted text', () => {
  it('never lets a node name, error or log line inject HTML or break the table', () => {
    const md = renderSummary(context(), hostileNodes())
    // `<b>` may appear raw inside a code span (the hostname), where Markdown shows it as text.
    expect(md).not.toMatch(/<script|<img/)
    expect(md).not.toContain('\x1b')
    const html = toHtml(md)
    expect(html).not.toMatch(/<script|<img|<b>/)
    const rows = tableRows(html)
    expect(rows).toHaveLength(3)
    expect(rows.every(row => row.length === 6)).toBe(true)
    expect(rows[1][1]).toBe('&lt;script&gt;alert(1)&lt;/script&gt;|x`y z')
    expect(html.match(/<details>/g)).toHaveLength(1)
    expect(html.match(/<pre>/g)).toHaveLength(1)
    expect(html).toContain(
      '&lt;/pre&gt;&lt;script&gt;alert(4)&lt;/script&gt;\n| a | b |\n::error::injected\nred\n@octocat\n</pre>'
    )
  })

  it('holds for any text (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.array(fc.string(), { maxLength: 5 }),
        (name, error, tail) => {
          const nodes = [
            report({ node: name, hostname: name, profiles: [name] }),
            report({ node: name, status: 'failed', error }, tail)
          ]
          const html = toHtml(renderSummary(context({ flake: name, actor: name }), nodes))
          expect(html).not.toMatch(/<(script|img|b|a\s+href="javascript)/i)
          const rows = tableRows(html)
          expect(rows).toHaveLength(3)
          expect(rows.every(row => row.length === 6)).toBe(true)
          expect(html.match(/<details>/g)).toHaveLength(1)
        }
      ),
      { numRuns: runs(300) }
    )
  })
})

describe('renderSummary: size bound', () => {
  it('stays under 1 MiB with a 64 MiB log tail', () => {
    const line = 'x'.repeat(64 * 1024)
    const tail = Array.from({ length: 1024 }, () => line)
    const node: NodeReport = {
      ...report({ status: 'failed', error: 'boom' }, []),
      logTail: tail,
      logBytes: 64 * MIB
    }
    const md = renderSummary(context(), [node])
    expect(byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    expect(md).toContain('Last 50 lines of the log (64.0 MiB in all)')
    expect(md).toContain('x…\n')
  })

  it('with many long logs: re-renders with fewer lines and says the logs were trimmed', () => {
    const line = '€'.repeat(2000)
    const nodes = Array.from({ length: 400 }, (_, i) =>
      report(
        { node: `node-${i}`, status: 'failed', stage: 'build', error: 'build failed' },
        Array(200).fill(line)
      )
    )
    const md = renderSummary(context(), nodes)
    expect(byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    expect(md).toContain(
      "This report was shortened to stay under GitHub's 1 MiB limit for a step summary"
    )
    expect(md).toMatch(/log excerpts (show only the last \d+ lines per node|were left out)/)
    expect(md).toContain('one collapsed group per node')
  })

  it('with too many nodes even for the table: cuts by bytes, keeps the Markdown closed and says so', () => {
    const nodes = Array.from({ length: 20_000 }, (_, i) =>
      report({ node: `node-${i}-${'n'.repeat(60)}`, status: 'failed', error: 'e'.repeat(200) }, [
        'x'
      ])
    )
    const md = renderSummary(context(), nodes)
    expect(byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    expect(md).toContain('only the table of nodes is shown')
    expect(md.trimEnd().endsWith('nodes that did not succeed first.')).toBe(true)
    expect(md).toContain('The rest of this summary was cut')
    const last = md.lastIndexOf('\n| ')
    expect(md.slice(last + 1).split('\n')[0]).toMatch(/\|$/)
  })

  it('fits any limit, with the <details> it keeps closed (property)', () => {
    const { context: ctx, nodes } = loadFixture('mixed-deploy')
    const full = byteLength(renderSummary(ctx, nodes))
    fc.assert(
      fc.property(fc.integer({ min: 300, max: full - 1 }), maxBytes => {
        const md = renderSummary(ctx, nodes, { maxBytes })
        expect(byteLength(md)).toBeLessThanOrEqual(maxBytes)
        expect((md.match(/^<details>/gm) ?? []).length).toBe(
          (md.match(/^<\/details>/gm) ?? []).length
        )
        expect((md.match(/^<pre>/gm) ?? []).length).toBe((md.match(/^<\/pre>/gm) ?? []).length)
        expect(md).toMatch(/shortened|cut/)
      }),
      { numRuns: runs(200) }
    )
  })

  it('honours logTailLines', () => {
    const { context: ctx, nodes } = loadFixture('mixed-deploy')
    const md = renderSummary(ctx, nodes, { logTailLines: 3 })
    expect(md).toContain('Last 3 lines of the log')
    expect(md).not.toContain('shortened')
  })
})
