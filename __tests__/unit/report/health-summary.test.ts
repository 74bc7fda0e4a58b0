import { describe, expect, it } from '@jest/globals'
import type { NodeReport } from '../../../src/model.js'
import { byteLength } from '../../../src/report/markdown.js'
import { renderSummary, SUMMARY_MAX_BYTES } from '../../../src/report/summary.js'
import { context, report, toHtml } from './support.js'

function unhealthy(name: string, units: number, line: string): NodeReport {
  const newlyFailed = Array.from({ length: units }, (_, i) => `unit-${i}.service`)
  const base = report({
    node: name,
    status: 'unhealthy',
    stage: 'health',
    error: `health check: ${units} units failed after the deploy`,
    health: { ok: false, newlyFailed, alreadyFailed: [], output: line }
  })
  base.result.healthDetail = {
    journals: newlyFailed.map(unit => ({ unit, lines: Array.from({ length: 20 }, () => line) })),
    note: null
  }
  return base
}

describe('the summary with health checks', () => {
  it('shows the Health column only when a check ran, with notes for what is not a failure', () => {
    const checked = report({
      node: 'legacy',
      health: { ok: true, newlyFailed: [], alreadyFailed: ['backup.service'], output: '' }
    })
    checked.result.healthDetail = { journals: [], note: null }
    const darwin = report({ node: 'mac-mini' })
    darwin.result.healthDetail = {
      journals: [],
      note: 'no systemd on the host: not checked (health-check: auto)'
    }
    const md = renderSummary(context(), [checked, darwin])
    expect(md).toContain('| Health |')
    expect(md).toContain('| ✓ already failed: 1 |')
    expect(md).toContain('### Health notes')
    expect(md).toContain(
      '**legacy**: Already failed before the deploy (not counted against the node): `backup.service`.'
    )
    expect(md).toContain('**mac-mini**: no systemd on the host: not checked (health-check: auto).')

    expect(renderSummary(context(), [report({ node: 'plain' })])).not.toContain('Health')
  })

  it('escapes journal lines, which come from the host', () => {
    const md = renderSummary(context(), [
      unhealthy('web', 1, '</pre><script>alert(1)</script> ::error::x')
    ])
    expect(md).toContain('&lt;/pre&gt;&lt;script&gt;')
    const html = toHtml(md)
    expect(html).not.toContain('<script>')
  })

  it('stays under the limit with 100 unhealthy nodes and their largest journals', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => unhealthy(`node-${i}`, 10, 'x'.repeat(500)))
    const md = renderSummary(context(), nodes)
    expect(byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    expect(md).toContain('This report was shortened')
  })

  it('says in the header when the canary stopped the rollout', () => {
    const canary = report({
      node: 'reverse-proxy',
      status: 'unhealthy',
      stage: 'health',
      error: 'health check: 1 unit failed after the deploy: nginx.service',
      health: { ok: false, newlyFailed: ['nginx.service'], alreadyFailed: [], output: '' }
    })
    const skipped = ['web', 'db'].map(node =>
      report({
        node,
        status: 'skipped',
        error: 'not started: canary node reverse-proxy ended unhealthy'
      })
    )
    const md = renderSummary(context({ canary: ['reverse-proxy'] }), [canary, ...skipped])
    expect(md).toContain(
      '**The canary stopped the rollout.** Canary reverse-proxy ended `unhealthy`, so the 2 other nodes were not deployed (`skipped`).'
    )
    // no canary, no callout
    expect(renderSummary(context(), [canary, ...skipped])).not.toContain('canary stopped')
  })
})
