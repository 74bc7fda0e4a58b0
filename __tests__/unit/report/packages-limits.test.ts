/**
 * The Packages column and section inside the real summary and PR comment:
 * at 100 nodes × 2,000 changed packages both stay within GitHub's limits
 * (1 MiB per step summary, 65,536 characters per comment) by listing fewer
 * changes per node, never by cutting the table.
 */
import { describe, expect, it } from '@jest/globals'
import type { NodeReport, RunContext } from '../../../src/model.js'
import { COMMENT_MAX_CHARS } from '../../../src/report/comment.js'
import { renderComment } from '../../../src/report/comment.js'
import { renderSummary } from '../../../src/report/summary.js'
import { result, toHtml } from './support.js'

const ctx: RunContext = {
  flake: '.',
  dryRun: true,
  event: 'pull_request',
  sha: '0123456789abcdef0123456789abcdef01234567',
  actor: 'octocat',
  repositoryUrl: 'https://github.com/octo/homelab',
  runUrl: 'https://github.com/octo/homelab/actions/runs/42',
  checkFailure: null,
  runError: null,
  cancelled: false
}

function node(n: number, changes: number, shared = 0): NodeReport {
  const change = (i: number) =>
    i < shared
      ? { name: `shared-library-${i}`, from: '1.0.0', to: '1.0.1' }
      : { name: `package-with-a-long-name-${n}-${i}`, from: '1.2.3.4.5', to: '1.2.3.4.6' }
  return {
    result: result({
      node: `node-${n}`,
      hostname: `node-${n}.example.net`,
      status: 'dry-run',
      dryRun: true,
      changes: { stop: [], restart: [], start: [], reload: [], restartSystemd: false },
      packages: {
        upgraded: Array.from({ length: changes }, (_, i) => change(i)),
        downgraded: [],
        added: [],
        removed: [],
        sizeDelta: 12_345_678
      }
    }),
    logFile: null,
    logTail: [],
    logBytes: 0
  }
}

describe('packages within GitHub limits', () => {
  const many = Array.from({ length: 100 }, (_, n) => node(n, 2000, 5))

  it('the PR comment: under 65,536 characters, every node in the table with its counts', () => {
    const body = renderComment(ctx, many, { marker: '<!-- deploy-rs-action:w/j -->' })
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS)
    for (let n = 0; n < 100; n++) {
      expect(body).toContain(`| node-${n} | \`node-${n}.example.net\``)
    }
    expect(body.match(/\| 2000&nbsp;↑ · 0&nbsp;\+ · 0&nbsp;− · \+11\.8&nbsp;MiB \|/g)).toHaveLength(
      100
    )
    // The shared changes said once, the rest cut per node.
    expect(body).not.toContain('The rest of this comment was cut')
    expect(body).toContain('**On all 100 nodes:**')
    expect(body.match(/shared-library-0 1\.0\.0 → 1\.0\.1/g)).toHaveLength(1)
    expect(body).toMatch(/and 1\d{3} more/)
    toHtml(body)
  })

  it('the job summary: under 1 MiB, each node a collapsed list', () => {
    const summary = renderSummary(ctx, many)
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(1024 * 1024)
    expect(summary.match(/<summary>node-\d+: 2000 ↑/g)).toHaveLength(100)
    expect(summary).toContain('- and 1965 more')
  })

  it('a small change is shown whole', () => {
    const body = renderComment(ctx, [node(1, 3), node(2, 1)], { marker: '<!-- m -->' })
    expect(body).toContain('| Packages |')
    expect(body).toContain('- package-with-a-long-name-1-2 1.2.3.4.5 → 1.2.3.4.6')
    expect(body).not.toContain('more')
  })
})
