/**
 * Foreign text printed by the action is never a workflow command, whatever it
 * holds, while the action's own commands around it still are; checked with a
 * model of the runner's command detection (test-support/action/runner-commands.ts).
 */
import { describe, expect, it } from '@jest/globals'
import {
  inertBlock,
  LIVE_BATCH_MS,
  LiveEcho,
  newStopToken,
  UntrustedOutput
} from '../../src/untrusted-text.js'
import {
  REGISTERED_COMMANDS,
  runnerCommands,
  runnerLines
} from '../../test-support/action/runner-commands.js'
import { fc, runs } from '../../test-support/property/fast-check.js'

/** Lines a host, a flake or a node name may carry that the runner would act on if printed plainly. */
const HOSTILE = [
  'web | ##[error title=X]all nodes OK',
  '│ ##[add-mask]deployed',
  '::warning::forged',
  '  ::set-output name=x::pwned',
  '\u00a0::add-mask::nbsp-led',
  '::stop-commands::x',
  '##[endgroup]',
  'progress 50%\r::error::after a carriage return',
  'a\n::notice::after a newline'
]

describe('the runner model', () => {
  it('takes every hostile line for a command when it is printed plainly', () => {
    for (const line of HOSTILE) {
      expect(runnerCommands(`${line}\n`).length).toBeGreaterThan(0)
    }
    expect(runnerCommands('web | ##[error title=X]all nodes OK\n')).toEqual([
      expect.objectContaining({
        command: 'error',
        properties: { title: 'X' },
        data: 'all nodes OK'
      })
    ])
  })

  it('resumes on the token in either form, and refuses a command name as a token', () => {
    const out =
      '::stop-commands::tok1\n::error::no\n##[tok1]\n::error::yes\n::stop-commands::error\n'
    expect(runnerCommands(out).map(c => [c.command, c.data, c.refused])).toEqual([
      ['stop-commands', 'tok1', undefined],
      ['tok1', '', undefined],
      ['error', 'yes', undefined],
      ['stop-commands', 'error', 'invalid stop token']
    ])
  })
})

describe('inertBlock', () => {
  const token = newStopToken()

  it('prints hostile lines verbatim and gives the runner no command but its own two', () => {
    const out = inertBlock(HOSTILE, token)
    expect(runnerCommands(out).map(c => c.command)).toEqual(['stop-commands', token])
    expect(runnerLines(out).slice(1, -1)).toEqual(runnerLines(HOSTILE.join('\n')))
  })

  it("leaves the action's own commands after it working", () => {
    const out = `${inertBlock(HOSTILE, token)}::error title=web::failed at activate\n::group::log\n`
    expect(runnerCommands(out).slice(2)).toEqual([
      expect.objectContaining({ command: 'error', properties: { title: 'web' } }),
      expect.objectContaining({ command: 'group', data: 'log' })
    ])
  })

  it('prints nothing for no lines', () => {
    expect(inertBlock([], token)).toBe('')
  })

  it('holds any text inert: only the block markers are commands', () => {
    const piece = fc.constantFrom(
      '::',
      '##[',
      ']',
      '\r',
      '\n',
      ' ',
      '\u00a0',
      '=',
      ',',
      'error',
      'add-mask',
      'stop-commands',
      'x'
    )
    const text = fc.oneof(
      fc.string(),
      fc.array(piece).map(parts => parts.join(''))
    )
    fc.assert(
      fc.property(fc.array(text, { minLength: 1 }), lines => {
        const commands = runnerCommands(inertBlock(lines, token))
        expect(commands.map(c => c.command)).toEqual(['stop-commands', token])
      }),
      { numRuns: runs(300) }
    )
  })
})

describe('newStopToken', () => {
  it('is 128 random bits in hex, fresh each time, and a valid stop token', () => {
    const tokens = Array.from({ length: 20 }, newStopToken)
    for (const token of tokens) {
      expect(token).toMatch(/^[0-9a-f]{32}$/)
      expect(REGISTERED_COMMANDS).not.toContain(token)
    }
    expect(new Set(tokens).size).toBe(tokens.length)
  })
})

describe('UntrustedOutput', () => {
  it('writes each call as one whole block', () => {
    const writes: string[] = []
    const output = new UntrustedOutput(text => writes.push(text), 'feedbeef00')
    output.info('Targets: ::warning::x, ##[add-mask]y')
    output.lines([])
    output.lines(['a', 'b'])
    expect(writes).toEqual([
      '::stop-commands::feedbeef00\nTargets: ::warning::x, ##[add-mask]y\n::feedbeef00::\n',
      '::stop-commands::feedbeef00\na\nb\n::feedbeef00::\n'
    ])
  })
})

describe('LiveEcho', () => {
  it('prints lines that arrive before the scheduled flush as one block, in order', () => {
    const writes: string[] = []
    const scheduled: Array<() => void> = []
    const echo = new LiveEcho(new UntrustedOutput(text => writes.push(text), 'cafe0123'), flush =>
      scheduled.push(flush)
    )
    echo.line('web | one')
    echo.line('db | ##[error]two')
    expect(writes).toEqual([])
    expect(scheduled).toHaveLength(1)
    scheduled[0]()
    expect(writes).toEqual([
      '::stop-commands::cafe0123\nweb | one\ndb | ##[error]two\n::cafe0123::\n'
    ])
    echo.line('web | three')
    expect(scheduled).toHaveLength(2)
    echo.flush()
    expect(writes[1]).toBe('::stop-commands::cafe0123\nweb | three\n::cafe0123::\n')
    // The timer that fires after a flush finds nothing to print.
    scheduled[1]()
    expect(writes).toHaveLength(2)
  })

  it('flushes by itself, with a timer that does not hold the process', async () => {
    const writes: string[] = []
    const echo = new LiveEcho(new UntrustedOutput(text => writes.push(text), 'cafe0123'))
    echo.line('web | one')
    await new Promise(resolve => setTimeout(resolve, LIVE_BATCH_MS * 3))
    expect(writes).toEqual(['::stop-commands::cafe0123\nweb | one\n::cafe0123::\n'])
  })
})
