import { describe, expect, it } from '@jest/globals'
import type { HealthResult } from '../../../src/health/verdict.js'
import {
  canaryStoppedCallout,
  healthCell,
  renderUnhealthyNode
} from '../../../src/report/health.js'

function health(overrides: Partial<HealthResult> = {}): HealthResult {
  return { ok: true, newlyFailed: [], alreadyFailed: [], output: '', ...overrides }
}

describe('healthCell', () => {
  it('shows ✓, the newly failed count, the already failed count, or —', () => {
    expect(healthCell(null)).toBe('—')
    expect(healthCell(health())).toBe('✓')
    expect(healthCell(health({ alreadyFailed: ['a.service'] }))).toBe('✓ already failed: 1')
    expect(healthCell(health({ ok: false, newlyFailed: ['a.service', 'b.service'] }))).toBe(
      '✗ · 2 newly failed'
    )
    expect(healthCell(health({ ok: false }))).toBe('✗')
  })
})

describe('renderUnhealthyNode', () => {
  const node = {
    node: 'web',
    error: 'health check: 1 unit failed after the deploy: nginx.service',
    health: health({ ok: false, newlyFailed: ['nginx.service'], alreadyFailed: ['old.timer'] }),
    journals: [
      {
        unit: 'nginx.service',
        lines: [
          'nginx: [emerg] unknown directive "lisen"',
          '</pre><img src=x onerror=alert(1)>',
          '::error::forged',
          '@someone see #12'
        ]
      }
    ]
  }

  it('shows each newly failed unit with its journal lines, escaped, and how to roll back', () => {
    const md = renderUnhealthyNode(node, 20)
    expect(md).toContain('**`nginx.service`** failed after the deploy')
    expect(md).toContain('nginx: [emerg] unknown directive "lisen"')
    expect(md).toContain('&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;')
    expect(md).not.toContain('</pre><img')
    expect(md).toContain('not rolled back')
    expect(md).toContain('nixos-rebuild switch --rollback')
    expect(md).toContain(
      'Already failed before the deploy (not counted against the node): `old.timer`.'
    )
  })

  it('keeps at most the given number of journal lines, none at 0', () => {
    expect(renderUnhealthyNode(node, 1)).not.toContain('lisen')
    expect(renderUnhealthyNode(node, 1)).toContain('@someone see #12')
    expect(renderUnhealthyNode(node, 0)).not.toContain('<pre>')
  })

  it("shows a custom check's output tail", () => {
    const md = renderUnhealthyNode(
      {
        node: 'db',
        error: 'health check: the command exited with code 3',
        health: health({ ok: false, output: 'checking\n503 <b>down</b>' }),
        journals: []
      },
      20
    )
    expect(md).toContain('<pre>\nchecking\n503 &lt;b&gt;down&lt;/b&gt;\n</pre>')
  })
})

describe('canaryStoppedCallout', () => {
  it('names the canary, its status and how many nodes it kept back', () => {
    expect(canaryStoppedCallout({ node: 'proxy_*', status: 'unhealthy' }, 3)).toBe(
      '> [!WARNING]\n> **The canary stopped the rollout.** Canary proxy\\_\\* ended `unhealthy`, so the 3 other nodes were not deployed (`skipped`).'
    )
  })
})
