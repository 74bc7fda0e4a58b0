/**
 * Text from logs and names cannot make GitHub link or notify anything when it
 * lands in the PR comment: mentions, issue and pull request references (also
 * to other repositories), commit references and autolinked URLs are defused
 * with a zero-width space where GitHub's autolinkers would match.
 */
import { describe, expect, it } from '@jest/globals'
import { defuseMentions, htmlText, mdText } from '../../../src/report/markdown.js'

const ZWSP = '\u200b'

/** What GitHub would autolink in rendered text: the patterns its filters look for. */
function autolinked(text: string): string[] {
  const patterns = [
    /(?:^|\W)@[A-Za-z0-9][\w-]*(?:\/[\w-]+)?/g, // @user, @org/team
    /[\w.-]+\/[\w.-]+#\d+/g, // owner/repo#12
    /(?:^|\W)#\d+/g, // #12
    /\bGH-\d+/gi, // GH-12
    /[\w.-]+@[0-9a-f]{7,40}\b/gi, // user@sha, owner/repo@sha
    /https?:\/\/\S+/g,
    /\bwww\.\S+/gi
  ]
  return patterns.flatMap(pattern => text.match(pattern) ?? [])
}

const HOSTILE = [
  'see owner/repo#46 for details',
  'fixes acme/infra#1 and #2',
  'GH-46 and gh-47',
  'ping @octocat and @acme/ops',
  '`@octocat` in backticks',
  '(@octocat)',
  'built from owner/repo@0123456789abcdef0123456789abcdef01234567',
  'octocat@a1b2c3d',
  'https://github.com/acme/infra/issues/46',
  'www.github.com/acme/infra/pull/46'
]

describe('mdText and htmlText leave nothing for GitHub to autolink', () => {
  it.each(HOSTILE)('%s', text => {
    expect(autolinked(text)).not.toEqual([])
    expect(autolinked(mdText(text))).toEqual([])
    expect(autolinked(htmlText(text))).toEqual([])
    // Only invisible characters were added.
    expect(htmlText(text).replaceAll(ZWSP, '')).toBe(text.replace(/&/g, '&amp;'))
  })

  it('puts the zero-width space right after the sign, so the text reads the same', () => {
    expect(mdText('owner/repo#46')).toBe(`owner/repo#${ZWSP}46`)
    expect(mdText('GH-46')).toBe(`GH-${ZWSP}46`)
    expect(mdText('\\`@x')).toContain(`@${ZWSP}x`)
  })

  it('leaves e-mail-like text and addresses alone', () => {
    expect(defuseMentions('root@host')).toBe('root@host')
    expect(defuseMentions('deploy@gw-1.acme.internal')).toBe('deploy@gw-1.acme.internal')
    expect(defuseMentions('C# and F#')).toBe('C# and F#')
  })
})
