/** A dry run whose changes are null must read as unknown, never as "nothing would change". */
import { describe, expect, it } from '@jest/globals'
import { renderChanges, renderTable } from '../../../src/report/sections.js'
import { context, result, tableRows, toHtml } from './support.js'

describe('dry run with changes: null', () => {
  const unknown = result({ node: 'hm', status: 'dry-run', dryRun: true, changes: null })

  it('says "unknown" in the table', () => {
    const rows = tableRows(toHtml(renderTable(context({ dryRun: true }), [unknown])))
    const column = rows[0].indexOf('Would change')
    expect(rows[1][column]).toBe('unknown')
  })

  it('says what would change is unknown in the list, not that nothing would', () => {
    const md = renderChanges([unknown], 'full') ?? ''
    expect(md).toContain('What would change is unknown')
    expect(md).not.toMatch(/No unit changes|nothing would change/i)
  })
})
