/**
 * Splits a command line into words the way users expect from a workflow
 * file: blanks separate words, single and double quotes group them, a
 * backslash escapes the next character outside single quotes. Nothing is
 * expanded: there is no shell anywhere in this action.
 * Ours, not a library: shell-quote and the like also parse operators, globs
 * and variables, which here must stay plain text.
 */
export function splitWords(text: string): string[] {
  const words: string[] = []
  let current = ''
  let inWord = false
  let quote: '"' | "'" | null = null
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quote) {
      if (ch === quote) {
        quote = null
      } else if (ch === '\\' && quote === '"' && i + 1 < text.length) {
        current += text[++i]
      } else {
        current += ch
      }
      continue
    }
    if (ch === '"' || ch === "'") {
      quote = ch
      inWord = true
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i]
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current)
      current = ''
      inWord = false
    } else {
      current += ch
      inWord = true
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`)
  if (inWord) words.push(current)
  return words
}
