/**
 * Quotes one value for a POSIX shell (ssh hands a remote command to the
 * login shell of the host's user: sh, bash, zsh all read single quotes the
 * same way). Everything between single quotes is literal; a single quote
 * itself ends the quoting, is written as `\'`, and quoting starts again.
 * NUL cannot be passed through a shell at all, so it is refused.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL byte cannot be passed to a remote shell')
  return `'${value.replace(/'/g, `'\\''`)}'`
}
