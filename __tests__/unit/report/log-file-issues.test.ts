/** The report says which nodes' full logs are incomplete, why, and how much is missing. */
import { describe, expect, it } from '@jest/globals'
import { renderSummary } from '../../../src/report/summary.js'
import { context, report, toHtml } from './support.js'

const MiB = 1024 * 1024

describe('incomplete log files in the summary', () => {
  it('names each node with a capped or unwritable log file, with the cut size or the reason', () => {
    const capped = {
      ...report({ node: 'big' }),
      logFileIssue: { kind: 'capped' as const, capBytes: 64 * MiB, cutBytes: 12 * MiB }
    }
    const failed = {
      ...report({ node: 'web' }),
      logFileIssue: {
        kind: 'failed' as const,
        error: 'EFBIG: file too large, write <b>*x*</b>',
        keptBytes: 8 * MiB
      }
    }
    const markdown = renderSummary(context(), [capped, failed, report({ node: 'fine' })])
    expect(markdown).toContain('> [!WARNING]\n> **Not every full log was kept.**')
    expect(markdown).toContain('**big**: its log file stops at its cap of 64.0 MiB; 12.0 MiB more')
    expect(markdown).toMatch(
      /\*\*web\*\*: its log file could not be written \(EFBIG: file too large, write/
    )
    expect(markdown).toContain('only the first 8.0 MiB were kept')
    expect(markdown).not.toMatch(/\*\*fine\*\*: its log file/)
    // Text from the error is escaped, never markup.
    expect(toHtml(markdown)).not.toContain('<b>')
  })

  it('is a note, not a warning, when logs were only capped; nothing when every file is whole', () => {
    const capped = {
      ...report({ node: 'big' }),
      logFileIssue: { kind: 'capped' as const, capBytes: 64 * MiB, cutBytes: 1 }
    }
    expect(renderSummary(context(), [capped])).toContain(
      '> [!NOTE]\n> **Not every full log was kept.**'
    )
    expect(renderSummary(context(), [report({ node: 'a' })])).not.toContain('Not every full log')
  })
})
