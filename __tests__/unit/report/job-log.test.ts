import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeReport } from '../../../src/model.js'
import { LINE_PREFIX, printNodeLogs } from '../../../src/report/job-log.js'
import { runnerCommands } from '../../../test-support/action/runner-commands.js'
import { report } from './support.js'

/** Resume token of the inert blocks around log lines (random in a real run). */
const TOKEN = 'c0ffee00c0ffee00c0ffee00c0ffee00'
const STOP = `::stop-commands::${TOKEN}`
const RESUME = `::${TOKEN}::`

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'job-log-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function withLog(
  name: string,
  content: string | Buffer,
  overrides: Parameters<typeof report>[0] = {}
): NodeReport {
  const file = join(dir, `${name}.log`)
  writeFileSync(file, content)
  return { ...report({ node: name, ...overrides }), logFile: file }
}

async function print(nodes: NodeReport[], maxBytesPerNode?: number): Promise<string> {
  let out = ''
  await printNodeLogs(nodes, { write: text => (out += text), maxBytesPerNode, stopToken: TOKEN })
  return out
}

/**
 * Every line is a group command, an inert-block marker or a prefixed log line,
 * and the runner acts on nothing but the groups and the markers.
 */
function expectOnlyPrefixedLines(out: string): void {
  expect(out.endsWith('\n')).toBe(true)
  for (const line of out.slice(0, -1).split('\n')) {
    expect(
      line.startsWith(LINE_PREFIX) ||
        line.startsWith('::group::') ||
        [STOP, RESUME, '::endgroup::'].includes(line)
    ).toBe(true)
  }
  const commands = new Set(runnerCommands(out).map(c => c.command))
  expect(
    [...commands].filter(c => !['group', 'endgroup', 'stop-commands', TOKEN].includes(c))
  ).toEqual([])
}

describe('printNodeLogs', () => {
  it('prints one group per node, nodes that did not succeed first, every line prefixed', async () => {
    const out = await print([
      withLog('web-1', 'line 1\nline 2\n'),
      withLog('web-2', '::error::injected\n##[group]fake\r\nlast line without newline', {
        status: 'failed',
        stage: 'activate'
      }),
      { ...report({ node: 'mon-1', status: 'skipped' }), logFile: null }
    ])
    expect(out).toBe(
      [
        '::group::deploy-rs log: web-2 (❌ failed)',
        STOP,
        '│ ::error::injected',
        '│ ##[group]fake',
        '│ last line without newline',
        RESUME,
        '::endgroup::',
        '::group::deploy-rs log: mon-1 (⏭️ skipped)',
        STOP,
        '│ (no log: deploy-rs never ran for this node)',
        RESUME,
        '::endgroup::',
        '::group::deploy-rs log: web-1 (✅ deployed)',
        STOP,
        '│ line 1',
        '│ line 2',
        RESUME,
        '::endgroup::',
        ''
      ].join('\n')
    )
    // '│ ##[group]fake' would be a group command for the runner outside a block.
    expectOnlyPrefixedLines(out)
  })

  it('splits carriage-return progress into lines and escapes the group title', async () => {
    const out = await print([withLog('a\n::error::x%', '[1/3]\r[2/3]\r::warning::w\n\n')])
    expect(out).toBe(
      [
        '::group::deploy-rs log: a ::error::x%25 (✅ deployed)',
        STOP,
        '│ [1/3]',
        '│ [2/3]',
        '│ ::warning::w',
        '│ ',
        RESUME,
        '::endgroup::',
        ''
      ].join('\n')
    )
  })

  it('reports a missing or empty log inside its group and never throws', async () => {
    const missing = { ...report({ node: 'gone' }), logFile: join(dir, 'does-not-exist.log') }
    const out = await print([missing, withLog('empty', '')])
    expect(out).toContain(
      `│ (could not read the log file ${join(dir, 'does-not-exist.log')}: ENOENT)`
    )
    expect(out).toContain('│ (deploy-rs printed nothing for this node)')
    expectOnlyPrefixedLines(out)
  })

  it('prints a big log as head and tail within the cap and says what was cut', async () => {
    const lines = Array.from(
      { length: 40_000 },
      (_, i) => `line ${String(i).padStart(6, '0')} ${'é'.repeat(20)}`
    )
    const content = `${lines.join('\n')}\n`
    const cap = 256 * 1024
    const out = await print([withLog('big', content)], cap)
    expectOnlyPrefixedLines(out)
    // The cap counts log bytes; the prefix adds 4 bytes per line on top.
    expect(Buffer.byteLength(out)).toBeLessThan(cap * 1.2)
    expect(out).toContain('│ line 000000 ')
    expect(out).toContain(`│ ${lines[lines.length - 1]}\n${RESUME}\n::endgroup::`)
    expect(out).toMatch(
      /│ … [\d.]+ [KM]iB cut here: this log is [\d.]+ MiB; only its first 64\.0 KiB and last 192\.0 KiB are printed …\n/
    )
    // Tail lines are whole: every printed log line after the cut notice is a full line of the file.
    const after = out
      .slice(out.indexOf('cut here'))
      .split('\n')
      .slice(1, -2)
      .filter(line => line !== STOP && line !== RESUME)
    const all = new Set(lines)
    expect(after.length).toBeGreaterThan(1000)
    expect(after.filter(line => !all.has(line.slice(LINE_PREFIX.length)))).toEqual([])
  })

  it('reads only the capped bytes of a 1 GiB log', async () => {
    const file = join(dir, 'huge.log')
    const fd = openSync(file, 'w')
    writeSync(fd, 'first line\n')
    ftruncateSync(fd, 1024 ** 3) // sparse: no disk used
    writeSync(fd, '\nlast line\n', 1024 ** 3)
    closeSync(fd)
    const started = Date.now()
    const out = await print([{ ...report({ node: 'huge' }), logFile: file }], 1024 * 1024)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(Buffer.byteLength(out)).toBeLessThan(1.2 * 1024 * 1024)
    expect(out).toContain('│ first line\n')
    expect(out).toContain('this log is 1.0 GiB')
    expect(out.endsWith(`│ last line\n${RESUME}\n::endgroup::\n`)).toBe(true)
    expectOnlyPrefixedLines(out)
  })

  it('prints the tail of a capped log that is one giant line', async () => {
    const out = await print(
      [withLog('giant', `${'a'.repeat(300_000)}${'z'.repeat(300_000)}`)],
      400_000
    )
    expectOnlyPrefixedLines(out)
    expect(out).toContain('cut here')
    expect(out.endsWith(`${'z'.repeat(1000)}\n${RESUME}\n::endgroup::\n`)).toBe(true)
  })

  it('streams a line without any newline in pieces', async () => {
    const out = await print([withLog('one-line', 'x'.repeat(200_000))])
    const printed = out.split('\n').filter(l => l.startsWith(LINE_PREFIX))
    expect(printed.length).toBe(4)
    expect(printed.map(l => l.length - LINE_PREFIX.length).reduce((a, b) => a + b)).toBe(200_000)
  })
})
