import { describe, it, expect } from '@jest/globals'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodeStatus, Stage, UnitChanges } from '../../../src/model.js'
import { classifyRun, MAX_ERROR_LENGTH } from '../../../src/deploy/classify.js'
import { LineSplitter } from '../../../src/deploy/line-splitter.js'
import { DeployLogParser } from '../../../src/deploy/log-parser.js'

/**
 * Each fixture is `<name>.txt` (what deploy-rs printed, stdout and stderr
 * together, with its real ANSI escapes) plus `<name>.json` (how it exited and
 * what the action must report). `.txt`, not `.log`: the repository ignores *.log.
 */
interface Fixture {
  description: string
  node: string
  exitCode: number | null
  signal: string | null
  dryRun: boolean
  expected: {
    status: NodeStatus
    stage: Stage | null
    errorIncludes: string[]
    changes: UnitChanges | null
  }
}

const DIR = fileURLToPath(new URL('../../fixtures/logs/', import.meta.url))
const names = readdirSync(DIR)
  .filter(name => name.endsWith('.json'))
  .map(name => name.slice(0, -'.json'.length))
  .sort()

function load(name: string): { fixture: Fixture; bytes: Buffer } {
  return {
    fixture: JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Fixture,
    bytes: readFileSync(join(DIR, `${name}.txt`))
  }
}

/** Feeds the bytes through a splitter in chunks of the given sizes (cycled). */
function run(bytes: Buffer, chunkSizes: number[]): DeployLogParser {
  const parser = new DeployLogParser()
  const splitter = new LineSplitter(line => parser.push(line, 'stderr'))
  let offset = 0
  for (let i = 0; offset < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]
    splitter.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  splitter.flush()
  return parser
}

describe('captured deploy-rs logs', () => {
  it('has the fixtures the classification depends on', () => {
    expect(names).toEqual(
      expect.arrayContaining([
        'deploy-success-magic-rollback',
        'deploy-success-no-magic-rollback',
        'deploy-boot',
        'dry-run-changes',
        'dry-run-pre-switch-failed',
        'dry-run-incompatible-init',
        'push-connection-refused',
        'push-host-key-mismatch',
        'build-failure',
        'check-failure',
        'eval-failure',
        'activation-failure-rollback',
        'magic-rollback-confirm-timeout',
        'old-version-rollback-exit-0',
        'usage-error'
      ])
    )
  })

  it('fixtures hold real ESC bytes, not escaped text', () => {
    const withColour = names.filter(name => load(name).bytes.includes(0x1b))
    expect(withColour.length).toBeGreaterThanOrEqual(names.length - 1)
    for (const name of names) expect(load(name).bytes.toString('utf8')).not.toContain('\\x1b')
  })

  describe.each(names)('%s', name => {
    const { fixture, bytes } = load(name)

    it(`is classified ${fixture.expected.status} / ${String(fixture.expected.stage)}`, () => {
      const outcome = classifyRun({
        parser: run(bytes, [bytes.length]),
        exitCode: fixture.exitCode,
        signal: fixture.signal,
        dryRun: fixture.dryRun,
        timedOut: false,
        cancelled: false,
        node: fixture.node
      })
      expect({ status: outcome.status, stage: outcome.stage }).toEqual({
        status: fixture.expected.status,
        stage: fixture.expected.stage
      })
      if (fixture.expected.status === 'deployed' || fixture.expected.status === 'dry-run') {
        expect(outcome.error).toBeNull()
      } else {
        expect(outcome.error).not.toBeNull()
        const error = outcome.error ?? ''
        for (const part of fixture.expected.errorIncludes) expect(error).toContain(part)
        expect(/[\n\r]/.test(error) || error.includes(String.fromCharCode(27))).toBe(false)
        expect(error.length).toBeLessThanOrEqual(MAX_ERROR_LENGTH)
      }
      if (fixture.expected.changes !== null)
        expect(outcome.changes).toEqual(fixture.expected.changes)
      if (!fixture.dryRun) expect(outcome.changes).toBeNull()
    })

    it('gives the same result at any chunk size', () => {
      const whole = classifyRun({
        parser: run(bytes, [bytes.length]),
        exitCode: fixture.exitCode,
        signal: fixture.signal,
        dryRun: fixture.dryRun,
        timedOut: false,
        cancelled: false,
        node: fixture.node
      })
      for (const sizes of [[1], [2, 3, 5, 7], [64], [4096]]) {
        const parser = run(bytes, sizes)
        expect(
          classifyRun({
            parser,
            exitCode: fixture.exitCode,
            signal: fixture.signal,
            dryRun: fixture.dryRun,
            timedOut: false,
            cancelled: false,
            node: fixture.node
          })
        ).toEqual(whole)
        expect(parser.bytes).toBe(bytes.length)
      }
    })
  })
})
