/**
 * A model of how the GitHub runner finds workflow commands in a step's
 * output, written from actions/runner's source (facts, not its code):
 *
 * - Lines end at LF, CR or CRLF (the runner reads output with .NET's
 *   StreamReader.ReadLine).
 * - `ActionCommandManager.TryProcessCommand` tries `ActionCommand.TryParseV2`,
 *   then `ActionCommand.TryParse`; an empty line is never a command.
 * - TryParseV2: after trimming leading white space (.NET char.IsWhiteSpace),
 *   the line starts with `::`; the command info runs to the next `::`; its
 *   name (up to the first space) must be a registered command (case
 *   insensitive); properties are `k=v` separated by `,`; the data follows.
 * - TryParse: the FIRST `##[` anywhere in the line, up to the next `]`; the
 *   same name rule; properties separated by `;`; the data follows the `]`.
 * - `stop-commands` with data TOKEN (not empty, not a command name, not
 *   `pause-logging`, else refused with an error) stops processing and
 *   registers TOKEN as a command; while stopped, every line is text except a
 *   command (either form) whose name equals TOKEN, case insensitive, which
 *   resumes.
 *
 * The runner's culture-aware string search is modelled as ordinal.
 */

/** Commands the runner registers (its command extensions, plus stop-commands). */
export const REGISTERED_COMMANDS = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo'
]

export interface RunnerCommand {
  /** As the runner matched it: a registered name, or the resume token. */
  command: string
  properties: Record<string, string>
  data: string
  /** The output line it came from. */
  line: string
  /** When the runner refused it (an invalid stop token). */
  refused?: string
}

/** .NET char.IsWhiteSpace, which String.TrimStart() trims. */
const DOTNET_WHITE_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/

/** The lines of a stream as the runner reads them. */
export function runnerLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/)
  // A final terminator ends the last line; it does not start an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

function unescape(text: string, mappings: readonly [string, string][]): string {
  let result = text
  for (const [token, replacement] of mappings) result = result.split(replacement).join(token)
  return result
}

const V1_ESCAPES: [string, string][] = [
  [';', '%3B'],
  ['\r', '%0D'],
  ['\n', '%0A'],
  [']', '%5D'],
  ['%', '%25']
]
const V2_DATA_ESCAPES: [string, string][] = [
  ['\r', '%0D'],
  ['\n', '%0A'],
  ['%', '%25']
]
const V2_PROPERTY_ESCAPES: [string, string][] = [
  ['\r', '%0D'],
  ['\n', '%0A'],
  [':', '%3A'],
  [',', '%2C'],
  ['%', '%25']
]

type Parsed = Omit<RunnerCommand, 'line'>

function splitProperties(
  text: string,
  separator: string,
  escapes: [string, string][]
): Record<string, string> {
  const properties: Record<string, string> = {}
  for (const part of text.split(separator).filter(p => p !== '')) {
    const eq = part.indexOf('=')
    // Split with count 2 and RemoveEmptyEntries: 'k=' and '=v' give one piece and are dropped.
    if (eq <= 0 || eq === part.length - 1) continue
    properties[part.slice(0, eq).toLowerCase()] = unescape(part.slice(eq + 1), escapes)
  }
  return properties
}

function commandName(info: string, registered: ReadonlySet<string>): string | null {
  const space = info.indexOf(' ')
  const name = space < 0 ? info : info.slice(0, space)
  return registered.has(name.toLowerCase()) ? name : null
}

function parseV2(line: string, registered: ReadonlySet<string>): Parsed | null {
  const message = line.replace(DOTNET_WHITE_SPACE, '')
  if (!message.startsWith('::')) return null
  const end = message.indexOf('::', 2)
  if (end < 0) return null
  const info = message.slice(2, end)
  const name = commandName(info, registered)
  if (name === null) return null
  const space = info.indexOf(' ')
  return {
    command: name,
    properties:
      space > 0 ? splitProperties(info.slice(space + 1).trim(), ',', V2_PROPERTY_ESCAPES) : {},
    data: unescape(message.slice(end + 2), V2_DATA_ESCAPES)
  }
}

function parseV1(line: string, registered: ReadonlySet<string>): Parsed | null {
  const start = line.indexOf('##[')
  if (start < 0) return null
  const bracket = line.indexOf(']', start)
  if (bracket < 0) return null
  const info = line.slice(start + 3, bracket)
  const name = commandName(info, registered)
  if (name === null) return null
  const space = info.indexOf(' ')
  return {
    command: name,
    properties: space > 0 ? splitProperties(info.slice(space + 1), ';', V1_ESCAPES) : {},
    data: unescape(line.slice(bracket + 1), V1_ESCAPES)
  }
}

/**
 * Every command the runner would act on in a stream of output, in order:
 * the stop-commands and resume commands themselves included.
 */
export function runnerCommands(output: string): RunnerCommand[] {
  const registered = new Set(REGISTERED_COMMANDS)
  let stopToken: string | null = null
  const commands: RunnerCommand[] = []
  for (const line of runnerLines(output)) {
    if (line === '') continue
    const parsed = parseV2(line, registered) ?? parseV1(line, registered)
    if (!parsed) continue
    if (stopToken !== null) {
      if (parsed.command.toLowerCase() === stopToken.toLowerCase()) {
        commands.push({ ...parsed, line })
        registered.delete(stopToken.toLowerCase())
        stopToken = null
      }
      continue
    }
    if (parsed.command.toLowerCase() === 'stop-commands') {
      const token = parsed.data
      if (token === '' || registered.has(token.toLowerCase()) || /^pause-logging$/i.test(token)) {
        commands.push({ ...parsed, line, refused: 'invalid stop token' })
        continue
      }
      commands.push({ ...parsed, line })
      stopToken = token
      registered.add(token.toLowerCase())
      continue
    }
    commands.push({ ...parsed, line })
  }
  return commands
}
