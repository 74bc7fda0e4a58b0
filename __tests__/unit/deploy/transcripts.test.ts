import { describe, it, expect } from '@jest/globals'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NodeStatus, Stage, UnitChanges } from '../../../src/model.js'
import { classifyRun, MAX_ERROR_LENGTH } from '../../../src/deploy/classify.js'
import { LineSplitter } from '../../../src/deploy/line-splitter.js'
import { DeployLogParser } from '../../../src/deploy/log-parser.js'

/**
 * One file per path deploy-rs can take, each line as upstream prints it (real ESC
 * bytes around the level word), in upstream's order. A header of `#` lines names
 * the upstream source of each message and what the action must report:
 * `# @node`, `# @profiles` (space-separated), `# @dry-run`, `# @exit`, `# @status`,
 * `# @stage` (`null` for none), `# @error` (a substring; repeatable), `# @changes`
 * (JSON, optional), `# @captured WHERE` for real output copied from where it was
 * published rather than written from source. `.txt`, not `.log`: the repository ignores *.log.
 */
interface Transcript {
  name: string
  header: string[]
  node: string
  profiles: string[]
  dryRun: boolean
  exitCode: number
  status: NodeStatus
  stage: Stage | null
  errorIncludes: string[]
  changes: UnitChanges | null | undefined
  bytes: Buffer
}

const DIR = fileURLToPath(new URL('../../fixtures/deploy-rs-transcripts/', import.meta.url))
const FILES = readdirSync(DIR)
  .filter(name => name.endsWith('.txt'))
  .sort()

function load(file: string): Transcript {
  const lines = readFileSync(join(DIR, file), 'utf8').split('\n')
  const header: string[] = []
  while (lines.length > 0 && lines[0].startsWith('#')) header.push(lines.shift() as string)
  const values = (key: string): string[] =>
    header.flatMap(line => {
      const match = new RegExp(`^# @${key} (.*)$`).exec(line)
      return match ? [match[1]] : []
    })
  const one = (key: string): string => {
    const found = values(key)
    if (found.length !== 1) throw new Error(`${file}: expected one @${key}, found ${found.length}`)
    return found[0]
  }
  const stage = one('stage')
  const changes = values('changes')
  return {
    name: file.slice(0, -'.txt'.length),
    header,
    node: one('node'),
    profiles: one('profiles').split(' '),
    dryRun: one('dry-run') === 'true',
    exitCode: Number(one('exit')),
    status: one('status') as NodeStatus,
    stage: stage === 'null' ? null : (stage as Stage),
    errorIncludes: values('error'),
    changes: changes.length === 0 ? undefined : (JSON.parse(changes[0]) as UnitChanges | null),
    bytes: Buffer.from(lines.join('\n'), 'utf8')
  }
}

/** Feeds the bytes through a splitter in chunks of the given sizes (cycled), as the runner does. */
function feed(bytes: Buffer, chunkSizes: number[]): DeployLogParser {
  const parser = new DeployLogParser()
  const splitter = new LineSplitter(line => parser.push(line))
  let offset = 0
  for (let i = 0; offset < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]
    splitter.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  splitter.flush()
  return parser
}

function classify(t: Transcript, parser: DeployLogParser) {
  return classifyRun({
    parser,
    exitCode: t.exitCode,
    signal: null,
    dryRun: t.dryRun,
    timedOut: false,
    cancelled: false,
    node: t.node,
    profiles: t.profiles
  })
}

const transcripts = FILES.map(load)
const ESC = String.fromCharCode(27)
/** flexi_logger's palette "196;208;51;7;8": the level word in 256-colour codes. */
const LEVEL_IN_COLOUR = new RegExp(
  ` \\[(deploy|activate|wait|revoke)\\] \\[${ESC}\\[38;5;\\d+m[A-Z]+${ESC}\\[0m\\] `
)

describe('deploy-rs transcripts', () => {
  it('covers every path the verdicts depend on', () => {
    const statuses = new Set(transcripts.map(t => `${t.status}/${String(t.stage)}`))
    for (const wanted of [
      'deployed/null',
      'dry-run/null',
      'rolled-back/activate',
      'rolled-back/confirm',
      'failed/activate',
      'failed/build',
      'failed/check',
      'failed/eval',
      'unreachable/push',
      'unreachable/activate'
    ]) {
      expect(statuses).toContain(wanted)
    }
    expect(transcripts.length).toBeGreaterThanOrEqual(30)
  })

  it('each names its upstream source, and deploy-rs lines carry the colour codes', () => {
    // Captured runs (`# @captured WHERE`) are real output as published, colours already stripped.
    for (const t of transcripts.filter(
      t => !t.header.some(line => line.startsWith('# @captured '))
    )) {
      expect(t.header.join('\n')).toMatch(/Upstream/)
      const text = t.bytes.toString('utf8')
      expect(text).not.toContain('\\x1b')
      for (const line of text.split('\n')) {
        if (/^(🚀|⭐|👀|↩️) /u.test(line)) {
          expect(line).toMatch(LEVEL_IN_COLOUR)
        }
      }
    }
  })

  describe.each(transcripts.map(t => [t.name, t] as const))('%s', (_name, t) => {
    it(`is ${t.status} / ${String(t.stage)}`, () => {
      const outcome = classify(t, feed(t.bytes, [t.bytes.length]))
      expect({ status: outcome.status, stage: outcome.stage }).toEqual({
        status: t.status,
        stage: t.stage
      })
      if (t.status === 'deployed' || t.status === 'dry-run') {
        expect(outcome.error).toBeNull()
      } else {
        const error = outcome.error ?? ''
        expect(error).not.toBe('')
        for (const part of t.errorIncludes) expect(error).toContain(part)
        expect(/[\n\r]/.test(error) || error.includes(ESC)).toBe(false)
        expect(error.length).toBeLessThanOrEqual(MAX_ERROR_LENGTH)
      }
      if (t.changes !== undefined) expect(outcome.changes).toEqual(t.changes)
      if (!t.dryRun) expect(outcome.changes).toBeNull()
    })

    it('gives the same verdict at any chunk size', () => {
      const whole = classify(t, feed(t.bytes, [t.bytes.length]))
      for (const sizes of [[1], [2, 3, 5, 7], [64]]) {
        expect(classify(t, feed(t.bytes, sizes))).toEqual(whole)
      }
    })
  })
})
