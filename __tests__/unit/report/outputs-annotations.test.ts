import { describe, expect, it } from '@jest/globals'
import type { NodeResult } from '../../../src/model.js'
import { annotateFailures } from '../../../src/report/annotations.js'
import { writeOutputs } from '../../../src/report/outputs.js'
import { loadFixture, result } from './support.js'

const SPEC_FIELDS = [
  'node',
  'hostname',
  'profiles',
  'status',
  'stage',
  'exitCode',
  'durationMs',
  'dryRun',
  'changes',
  'health',
  'packages',
  'error'
]

describe('writeOutputs', () => {
  it('writes results, succeeded, failed and hosts as JSON arrays with the spec’s fields', () => {
    const results = loadFixture('mixed-dry-run').nodes.map(n => n.result)
    const extra = { ...results[0], logFile: '/secret/path' } as NodeResult
    const outputs: Record<string, string> = {}
    writeOutputs(
      [extra, ...results.slice(1)],
      ['web-1', 'web-2', 'db-1', 'cache-1', 'edge-1', 'gw-1', 'mon-1'],
      (name, value) => {
        outputs[name] = value
      }
    )
    expect(Object.keys(outputs)).toEqual(['results', 'succeeded', 'failed', 'hosts'])
    const parsed = JSON.parse(outputs.results) as Array<Record<string, unknown>>
    expect(parsed).toHaveLength(7)
    for (const r of parsed) expect(Object.keys(r)).toEqual(SPEC_FIELDS)
    expect(parsed[0]).toEqual({
      node: 'web-1',
      hostname: 'web-1.acme.internal',
      profiles: ['system'],
      status: 'dry-run',
      stage: null,
      exitCode: 0,
      durationMs: 41700,
      dryRun: true,
      changes: {
        stop: [],
        restart: ['nginx.service', 'phpfpm-shop.service'],
        start: ['acme-shop-cleanup.timer'],
        reload: ['dbus.service'],
        restartSystemd: false
      },
      health: null,
      packages: null,
      error: null
    })
    expect(parsed[3]).toMatchObject({
      node: 'cache-1',
      status: 'failed',
      stage: 'build',
      changes: null,
      error: "nix build failed: attribute 'redis' missing"
    })
    expect(JSON.parse(outputs.succeeded)).toEqual(['web-1', 'web-2', 'db-1'])
    expect(JSON.parse(outputs.failed)).toEqual(['cache-1', 'edge-1', 'gw-1', 'mon-1'])
    expect(JSON.parse(outputs.hosts)).toEqual([
      'web-1',
      'web-2',
      'db-1',
      'cache-1',
      'edge-1',
      'gw-1',
      'mon-1'
    ])
  })

  it('writes empty arrays when nothing was planned', () => {
    const outputs: Record<string, string> = {}
    writeOutputs([], [], (name, value) => (outputs[name] = value))
    expect(outputs).toEqual({ results: '[]', succeeded: '[]', failed: '[]', hosts: '[]' })
  })
})

describe('annotateFailures', () => {
  it('annotates each node that did not succeed, titled by node, in one line', () => {
    const calls: Array<[string, { title: string }]> = []
    annotateFailures(
      [
        result({ node: 'web-1' }),
        result({
          node: 'web-2',
          status: 'failed',
          stage: 'activate',
          error: 'exit 4\nnginx failed'
        }),
        result({ node: 'mon-1', status: 'skipped', error: null }),
        result({ node: 'db-1', status: 'dry-run' })
      ],
      (message, properties) => calls.push([message, properties])
    )
    expect(calls).toEqual([
      ['failed at activate: exit 4 nginx failed', { title: 'web-2' }],
      ['skipped', { title: 'mon-1' }]
    ])
  })
})
