/**
 * Prints text the action did not write (node names, hostnames, flake text,
 * the output of nix, ssh-keyscan and deploy-rs, and through it the hosts') so
 * that the runner acts on none of it as a workflow command.
 *
 * The runner (actions/runner ActionCommandManager.TryProcessCommand) takes a
 * line for a command when, after leading blanks, it starts with `::name ...::`
 * (ActionCommand.TryParseV2), or when it holds `##[name ...]` ANYWHERE
 * (ActionCommand.TryParse), and it ends lines at CR as well as LF. No prefix or
 * escape makes every such line inert without changing the text (and a changed
 * text would also slip past the runner's secret masking), so foreign text is
 * printed inside a `::stop-commands::TOKEN` … `::TOKEN::` block: while
 * stopped, the runner acts only on the resume token, in either form.
 *
 * The token is 128 random bits, one per run: text that could guess it could
 * resume processing. The runner refuses empty tokens, `pause-logging` and
 * command names (hex is none of them) and masks tokens longer than six
 * characters, so the log shows `::stop-commands::***` and `::***::`.
 *
 * Each block is opened and closed within one write: the action's own
 * commands (annotations, groups, masks), printed between writes, never land
 * inside a block, where they would be ignored.
 */
import { randomBytes } from 'node:crypto'

export type Write = (text: string) => void

/** A resume token nobody can guess: 32 hex digits from the system's CSPRNG. */
export function newStopToken(): string {
  return randomBytes(16).toString('hex')
}

/** The lines (which may hold CR and LF themselves) as one inert block; '' for none. */
export function inertBlock(lines: readonly string[], token: string): string {
  if (lines.length === 0) return ''
  return `::stop-commands::${token}\n${lines.join('\n')}\n::${token}::\n`
}

/** Prints foreign text to the job log, each call one inert block. */
export class UntrustedOutput {
  constructor(
    private readonly write: Write = text => void process.stdout.write(text),
    readonly token: string = newStopToken()
  ) {}

  /** Prints lines as plain text (the job-log counterpart of core.info for foreign text). */
  lines(lines: readonly string[]): void {
    const block = inertBlock(lines, this.token)
    if (block !== '') this.write(block)
  }

  /** One message, e.g. `Targets: <node names>`. */
  info(message: string): void {
    this.lines([message])
  }
}

/** How long live lines may wait to share a block. */
export const LIVE_BATCH_MS = 200

/**
 * The live echo of deploy-rs output: lines that arrive within `LIVE_BATCH_MS`
 * (a burst of one node, several nodes at once) go out as one block, so they
 * cost two marker lines in all rather than two each. The action's own output
 * may pass pending lines, never split a block.
 */
export class LiveEcho {
  private pending: string[] = []
  private scheduled = false

  constructor(
    private readonly output: UntrustedOutput,
    /** Calls `flush` a little later; the timer never keeps the process alive. */
    private readonly schedule: (flush: () => void) => void = flush =>
      void setTimeout(flush, LIVE_BATCH_MS).unref()
  ) {}

  line(text: string): void {
    this.pending.push(text)
    if (this.scheduled) return
    this.scheduled = true
    this.schedule(() => this.flush())
  }

  /** Prints what is pending now (also called once the deploys are done). */
  flush(): void {
    this.scheduled = false
    this.output.lines(this.pending.splice(0))
  }
}

/** This run's printer: one token for the whole step. */
export const untrusted = new UntrustedOutput()
