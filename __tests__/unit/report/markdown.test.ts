import { describe, expect, it } from '@jest/globals'
import {
  byteLength,
  capChars,
  cleanText,
  codeSpan,
  escapeHtml,
  htmlText,
  mdText,
  preLines,
  safeUrl,
  truncateBytes,
  truncateChars
} from '../../../src/report/markdown.js'
import { stripAnsi } from '../../../src/text.js'
import { closeOpenBlocks, cutToLimit } from '../../../src/report/fit.js'
import { formatBytes, formatDuration, formatTotals } from '../../../src/report/format.js'
import { result, toHtml } from './support.js'

describe('stripAnsi / cleanText', () => {
  it('removes colours, cursor moves, OSC titles and lone escapes', () => {
    expect(stripAnsi('\x1b[31;1merror:\x1b[0m bad')).toBe('error: bad')
    expect(stripAnsi('\x1b[2K\x1b[1Gline')).toBe('line')
    expect(stripAnsi('\x1b]0;title\x07text')).toBe('text')
    expect(stripAnsi('\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\')).toBe('link')
    expect(stripAnsi('a\x1b(Bb\x1b')).toBe('ab')
  })

  it('keeps what a terminal shows after carriage returns and drops control characters', () => {
    expect(cleanText('[1/9]\r[2/9]\r[9/9]')).toBe('[9/9]')
    expect(cleanText('done\r\n')).toBe('done\n')
    expect(cleanText('a\x00b\x07c\u202ed')).toBe('abcd')
    expect(cleanText('tab\tkept')).toBe('tab\tkept')
  })

  it('turns Unicode line and paragraph separators into newlines, so one-line places get a space', () => {
    expect(cleanText('a\u2028b\u2029c')).toBe('a\nb\nc')
    expect(mdText('!\u2028\u2028!')).toBe('! !')
    expect(codeSpan('a\u2029b', { inTable: true })).toBe('`a b`')
    expect(preLines(['x\u2028y'], 100)).toBe('x y')
  })
})

describe('escaping', () => {
  it('escapeHtml escapes & < >', () => {
    expect(escapeHtml('<a href="x">&</a>')).toBe('&lt;a href="x"&gt;&amp;&lt;/a&gt;')
  })

  it('mdText escapes table pipes, backticks, emphasis, HTML and newlines', () => {
    const text = mdText('<script>alert(1)</script> | `x` *y* _z_ [l](u)\nnext')
    expect(text).not.toMatch(/<script|(?<!\\)\||(?<!\\)`|\n/)
    expect(text).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt; \\| \\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) next'
    )
  })

  it('mdText and htmlText defuse @mentions and #references but not e-mail-like text', () => {
    expect(mdText('ping @octocat about #12')).toBe('ping @\u200boctocat about #\u200b12')
    expect(htmlText('root@host')).toBe('root@host')
  })

  it('codeSpan uses a longer fence than the backticks inside and escapes pipes in tables', () => {
    expect(codeSpan('a`b')).toBe('``a`b``')
    expect(codeSpan('`x`')).toBe('`` `x` ``')
    expect(codeSpan('a|b', { inTable: true })).toBe('`a\\|b`')
    expect(codeSpan('a|b')).toBe('`a|b`')
    expect(codeSpan('')).toBe('—')
  })

  it('preLines cannot close the <pre> block', () => {
    expect(preLines(['</pre><script>x</script>'], 100)).toBe(
      '&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;'
    )
  })

  it('safeUrl accepts http(s) only and cannot break out of a link', () => {
    expect(safeUrl('javascript:alert(1)')).toBeNull()
    expect(safeUrl(null)).toBeNull()
    expect(safeUrl('https://x/a(b)')).toBe('https://x/a%28b%29')
  })

  it('renders text with every special character as that text', () => {
    const hostile = '<b>x</b> | `y` *z* \\ [w](v) &amp;'
    const html = toHtml(`| a |\n| - |\n| ${mdText(hostile)} |\n`)
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt; | `y` *z* \\ [w](v) &amp;amp;')
  })
})

describe('sizes', () => {
  it('truncateBytes never splits a character and fits', () => {
    const text = 'aé€😀'.repeat(100)
    for (let max = 0; max < 60; max++) {
      const cut = truncateBytes(text, max)
      expect(byteLength(cut)).toBeLessThanOrEqual(max)
      expect(text.startsWith(cut)).toBe(true)
      expect(cut).not.toContain('\ufffd')
    }
    expect(truncateBytes('short', 100)).toBe('short')
  })

  it('truncateChars never splits a surrogate pair', () => {
    expect(truncateChars('a😀', 2)).toBe('a')
    expect(capChars('abcdef', 4)).toBe('abc…')
    expect(capChars('abc', 4)).toBe('abc')
  })

  it('formats durations, sizes and totals', () => {
    expect(formatDuration(3240)).toBe('3.2 s')
    expect(formatDuration(64_200)).toBe('1m 04s')
    expect(formatDuration(3_723_000)).toBe('1h 02m 03s')
    expect(formatDuration(0)).toBe('—')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(64 * 1024 * 1024)).toBe('64.0 MiB')
    expect(
      formatTotals([
        result({ status: 'unreachable' }),
        result({ status: 'deployed' }),
        result({ status: 'failed' }),
        result({ status: 'deployed' })
      ])
    ).toBe('2 deployed · 1 failed · 1 unreachable')
  })
})

describe('closeOpenBlocks / cutToLimit', () => {
  it('closes <pre> and <details> left open', () => {
    expect(closeOpenBlocks('<details>\n<summary>x</summary>\n\n<pre>\nline')).toBe(
      '<details>\n<summary>x</summary>\n\n<pre>\nline\n</pre>\n\n</details>'
    )
    expect(closeOpenBlocks('<details>\n\n</details>\n\ntext')).toBe(
      '<details>\n\n</details>\n\ntext'
    )
    expect(closeOpenBlocks('```\ncode')).toBe('```\ncode\n```')
  })

  it('cuts at a line boundary, closes blocks and appends the notice, within the limit', () => {
    const text = `# t\n\n<details>\n<summary>s</summary>\n\n<pre>\n${'line\n'.repeat(1000)}</pre>\n\n</details>\n`
    const out = cutToLimit(text, {
      limit: 600,
      measure: byteLength,
      truncate: truncateBytes,
      cutNotice: 'CUT'
    })
    expect(byteLength(out)).toBeLessThanOrEqual(600)
    expect(out.endsWith('</pre>\n\n</details>\n\nCUT\n')).toBe(true)
    expect(out).not.toMatch(/\nlin\n/)
  })

  it('falls back to the notice alone when nothing else fits', () => {
    const out = cutToLimit('x'.repeat(1000), {
      limit: 10,
      measure: s => s.length,
      truncate: truncateChars,
      cutNotice: 'the notice is long'
    })
    expect(out).toBe('the notice')
  })
})
