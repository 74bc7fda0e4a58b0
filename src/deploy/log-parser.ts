import type { Stage, UnitChanges } from '../model.js'
import { stripAnsi } from '../text.js'
import {
  DEPLOY_STAGE_LINES,
  REMOTE_CONFIRM_LINES,
  SUCCESS_LINES,
  ROLLBACK_CLAIM,
  REMOTE_DEACTIVATE_LINES,
  ROLLBACK_FAILURE_LINES,
  WOULD_UNITS,
  WOULD_RESTART_SYSTEMD,
  WOULD_ACTIVATE,
  WOULD_STOP_SWAP,
  NIX_COPY_LINE,
  DRY_FAILURE_LINES,
  SSH_FAILURES
} from './log-patterns.js'

/**
 * Reads what one deploy-rs process prints, line by line, and keeps only what
 * the result of its node needs: the stage reached, the errors, rollback and
 * success markers, the dry-activation unit changes, ssh connection failures,
 * and the last lines for the report. Memory stays bounded whatever is fed.
 *
 * Formats (serokell/deploy-rs src/lib.rs):
 * `🚀 <level-emoji> [deploy] [LEVEL] message`, remote lines from activate-rs
 * with ⭐ [activate], 👀 [wait], ↩️ [revoke]; the level word is wrapped in
 * 256-colour codes. Anything else (nix, ssh, switch-to-configuration) is a
 * plain line.
 */

export type LogStream = 'stdout' | 'stderr'
export type LogSource = 'deploy' | 'activate' | 'wait' | 'revoke'
export type LogLevel = 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE'

export interface DeployLogLine {
  source: LogSource
  level: LogLevel
  message: string
}

/** A message worth quoting, with the stage the log was in when it appeared. */
export interface LoggedMessage {
  message: string
  /** Stage the run was in when the line appeared (null before any stage line). */
  stage: Stage | null
}

export type SshFailureKind =
  'connection-refused' | 'timed-out' | 'no-route' | 'host-key' | 'auth' | 'dns' | 'closed' | 'other'

export interface SshFailure extends LoggedMessage {
  kind: SshFailureKind
}

/**
 * Evidence that the host itself went back to a previous generation: activate-rs
 * de-activating after a failure (`[activate]`), or deploy-rs revoking a profile
 * that had succeeded earlier in the same call (`[revoke]`).
 */
export interface RollbackEvidence extends LoggedMessage {
  source: 'revoke' | 'activate'
}

/** What one dry activation printed, up to its `Completed dry-activate!`. */
export interface DryActivation {
  /** switch-to-configuration printed `would activate the configuration...`: it got past its checks. */
  wouldActivate: boolean
  /** Its last plain lines (nix copy progress left out), oldest first. */
  lines: string[]
}

/** Everything DeployLogParser learnt, as plain immutable data. */
export interface DeployLogSummary {
  /** Latest stage line seen (activate and confirm alternate with several profiles). */
  stage: Stage | null
  /** The last `[deploy] [ERROR]` messages, oldest first (at most 5). */
  deployErrors: LoggedMessage[]
  /**
   * The last `[ERROR]` message from activate-rs / revoke on the node, else from wait: the
   * waiter deploy-rs leaves behind on a failed activation times out later, and its error
   * is not the cause.
   */
  remoteError: LoggedMessage | null
  /** First host-side evidence of a rollback (never deploy-rs's own final message). */
  rollback: RollbackEvidence | null
  /**
   * deploy-rs's final `Deployment to node X failed, rolled back to previous generation`
   * (or the 2022-2024 `Deployment failed, ...`). deploy-rs prints it after any activation
   * failure while --rollback-succeeded/--auto-rollback are on: it proves a failure, not a rollback.
   */
  rollbackClaim: string | null
  /** A rollback that itself failed (node state unknown), if any. */
  rollbackFailure: LoggedMessage | null
  /** A `[deploy] [ERROR]` line came after the last success line (or with none): old versions then exit 0. */
  errorAfterLastSuccess: boolean
  /** A dry-activation failure that deploy-rs ignores (it still exits 0). */
  dryFailure: string | null
  /** The `would ...` lines, merged; empty lists when none were printed. */
  changes: UnitChanges
  /** At least one `would ...` line was parsed. */
  sawChanges: boolean
  /** `would activate the configuration...` was printed by some dry activation. */
  sawWouldActivate: boolean
  /** One entry per `Completed dry-activate!` (the last few when there are many). */
  dryActivations: DryActivation[]
  /**
   * A line came from the host (activate-rs, wait, revoke, switch-to-configuration) since
   * deploy-rs's last stage line: ssh got through at least once in this stage.
   */
  hostOutputInStage: boolean
  /**
   * The last activation reached magic rollback's confirmation (deploy-rs or activate-rs said
   * so) and no `Deployment confirmed.` followed: unless deploy-rs confirms, the host rolls back.
   */
  awaitingConfirmation: boolean
  /** deploy-rs's own panic message (upstream #287: the confirmation path unwraps), if any. */
  panic: string | null
  /** Last ssh connection failure printed (by ssh or by nix about ssh). */
  sshFailure: SshFailure | null
  /** Profile built on the target (`--remote-build`): build-stage ssh failures are the node's. */
  remoteBuild: boolean
  /** First informative `error: ...` line of a nix (or clap) command in the current stage. */
  commandError: LoggedMessage | null
  /** The very first plain `error: ...` line of the run (clap usage errors). */
  firstPlainError: string | null
  /** Last lines, ANSI codes stripped, oldest first. */
  tail: string[]
}

export interface DeployLogParserOptions {
  /** How many last lines to keep for the report (default 100). */
  tailLines?: number
  /** Longer tail lines are cut to this many characters (default 4096). */
  maxTailLineLength?: number
}

export const DEFAULT_TAIL_LINES = 100
const DEFAULT_MAX_TAIL_LINE_LENGTH = 4096
/** Longest message stored (errors, dry failures); classify trims further. */
const MAX_MESSAGE_LENGTH = 2000
/** Per list of units; further names are dropped. */
const MAX_UNITS = 1000
const MAX_UNIT_NAME = 256
const MAX_DEPLOY_ERRORS = 5
const MAX_DRY_ACTIVATIONS = 10
const DRY_ACTIVATION_LINES = 5

/**
 * `🚀 ℹ️ [deploy] [INFO] msg`: up to two leading emoji groups (the level
 * emoji may carry U+FE0F, spacing varies: `🚀ℹ️ [deploy]`, `🚀 ℹ️  [deploy]`).
 */
const FORMATTED_LINE =
  /^\s*(?:[^\s[\]]{1,4}\s*){0,2}\[(deploy|activate|wait|revoke)\]\s*\[(ERROR|WARN|INFO|DEBUG|TRACE)\]\s?(.*)$/u

/** Parses one ANSI-stripped line in deploy-rs's log format, or returns null. */
export function parseDeployLine(line: string): DeployLogLine | null {
  const match = FORMATTED_LINE.exec(line)
  if (!match) return null
  return {
    source: match[1] as LogSource,
    level: match[2] as LogLevel,
    message: match[3].trimEnd()
  }
}

/** Keeps the last `capacity` items in a fixed array. */
class Ring {
  private readonly items: string[]
  private next = 0
  private size = 0
  constructor(readonly capacity: number) {
    this.items = new Array<string>(capacity)
  }
  add(item: string): void {
    if (this.capacity === 0) return
    this.items[this.next] = item
    this.next = (this.next + 1) % this.capacity
    if (this.size < this.capacity) this.size++
  }
  toArray(): string[] {
    const out: string[] = []
    const start = (this.next - this.size + this.capacity) % Math.max(1, this.capacity)
    for (let i = 0; i < this.size; i++) out.push(this.items[(start + i) % this.capacity])
    return out
  }
}

class UnitList {
  readonly names: string[] = []
  private readonly seen = new Set<string>()
  add(names: string[]): void {
    for (const raw of names) {
      const name = raw.trim().slice(0, MAX_UNIT_NAME)
      if (name === '' || this.seen.has(name) || this.names.length >= MAX_UNITS) continue
      this.seen.add(name)
      this.names.push(name)
    }
  }
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text
}

export class DeployLogParser {
  private readonly ring: Ring
  private readonly maxTailLineLength: number

  private stage: Stage | null = null
  private deployErrors: LoggedMessage[] = []
  private remoteError: LoggedMessage | null = null
  private remoteErrorFromWait = false
  private rollback: RollbackEvidence | null = null
  private rollbackClaim: string | null = null
  private rollbackFailure: LoggedMessage | null = null
  private errorAfterLastSuccess = false
  private dryFailure: string | null = null
  /** 1: the init warning's first line was seen; 2: its second. */
  private initWarningPending: 0 | 1 | 2 = 0
  private readonly units = {
    stop: new UnitList(),
    restart: new UnitList(),
    start: new UnitList(),
    reload: new UnitList(),
    // `would NOT stop/restart` lines are matched so that they are never taken for stop/restart lines.
    notStop: new UnitList(),
    notRestart: new UnitList()
  }
  private restartSystemd = false
  private sawChanges = false
  private wouldActivate = false
  private sawWouldActivate = false
  private dryActivations: DryActivation[] = []
  private dryOutput: Ring = new Ring(DRY_ACTIVATION_LINES)
  private hostOutputInStage = false
  private sshFailure: SshFailure | null = null
  private remoteBuild = false
  private commandError: LoggedMessage | null = null
  private firstPlainError: string | null = null
  private awaitingConfirmation = false
  private panic: string | null = null
  private panicMessagePending = false
  private byteCount = 0

  constructor(options: DeployLogParserOptions = {}) {
    const tailLines = Math.max(0, Math.floor(options.tailLines ?? DEFAULT_TAIL_LINES))
    this.ring = new Ring(tailLines)
    this.maxTailLineLength = Math.max(16, options.maxTailLineLength ?? DEFAULT_MAX_TAIL_LINE_LENGTH)
  }

  /** Feeds one line (without its newline) from deploy-rs's stdout or stderr. */
  push(rawLine: string, _stream: LogStream = 'stderr'): void {
    this.byteCount += Buffer.byteLength(rawLine, 'utf8') + 1
    const line = stripAnsi(rawLine)
    this.ring.add(
      line.length > this.maxTailLineLength ? `${line.slice(0, this.maxTailLineLength)}…` : line
    )
    // Lines from the splitter are at most 64 KiB; a longer one is cut before any pattern runs.
    const text = line.length > 65536 ? line.slice(0, 65536) : line

    const formatted = parseDeployLine(text)
    if (formatted) {
      if (formatted.source === 'deploy') this.onDeployLine(formatted)
      else this.onRemoteLine(formatted)
      return
    }
    this.onPlainLine(text.trim())
  }

  /** Last lines fed, ANSI stripped, oldest first. */
  tail(): string[] {
    return this.ring.toArray()
  }

  get bytes(): number {
    return this.byteCount
  }

  summary(): DeployLogSummary {
    return {
      stage: this.stage,
      deployErrors: this.deployErrors.map(e => ({ ...e })),
      remoteError: this.remoteError && { ...this.remoteError },
      rollback: this.rollback && { ...this.rollback },
      rollbackClaim: this.rollbackClaim,
      rollbackFailure: this.rollbackFailure && { ...this.rollbackFailure },
      errorAfterLastSuccess: this.errorAfterLastSuccess,
      dryFailure: this.dryFailure,
      changes: {
        stop: [...this.units.stop.names],
        restart: [...this.units.restart.names],
        start: [...this.units.start.names],
        reload: [...this.units.reload.names],
        restartSystemd: this.restartSystemd
      },
      sawChanges: this.sawChanges,
      sawWouldActivate: this.sawWouldActivate,
      dryActivations: this.dryActivations.map(d => ({ ...d, lines: [...d.lines] })),
      hostOutputInStage: this.hostOutputInStage,
      awaitingConfirmation: this.awaitingConfirmation,
      panic: this.panic,
      sshFailure: this.sshFailure && { ...this.sshFailure },
      remoteBuild: this.remoteBuild,
      commandError: this.commandError && { ...this.commandError },
      firstPlainError: this.firstPlainError,
      tail: this.tail()
    }
  }

  private enterStage(stage: Stage): void {
    if (stage !== this.stage) this.commandError = null
    this.stage = stage
  }

  private onDeployLine({ level, message }: DeployLogLine): void {
    for (const [pattern, stage] of DEPLOY_STAGE_LINES) {
      if (pattern.test(message)) {
        this.enterStage(stage)
        this.hostOutputInStage = false
        this.startDryActivationWindow()
        this.awaitingConfirmation = stage === 'confirm'
        if (stage === 'build' && / on remote host$/.test(message)) this.remoteBuild = true
        break
      }
    }
    if (SUCCESS_LINES.some(p => p.test(message))) {
      this.awaitingConfirmation = false
      this.errorAfterLastSuccess = false
      if (message === 'Completed dry-activate!') {
        this.enterStage('activate')
        this.dryActivations.push({
          wouldActivate: this.wouldActivate,
          lines: this.dryOutput.toArray()
        })
        if (this.dryActivations.length > MAX_DRY_ACTIVATIONS) this.dryActivations.shift()
        this.startDryActivationWindow()
      }
    }
    if (ROLLBACK_CLAIM.test(message)) {
      // A failure marker, not a cause: kept apart from the errors that say what failed.
      this.rollbackClaim = clip(message)
      this.errorAfterLastSuccess = true
      return
    }
    if (ROLLBACK_FAILURE_LINES.some(p => p.test(message))) {
      this.rollbackFailure ??= { message: clip(message), stage: this.stage }
    }
    if (level === 'ERROR') {
      this.errorAfterLastSuccess = true
      this.deployErrors.push({ message: clip(message), stage: this.stage })
      if (this.deployErrors.length > MAX_DEPLOY_ERRORS) this.deployErrors.shift()
    }
  }

  private onRemoteLine({ source, level, message }: DeployLogLine): void {
    this.hostOutputInStage = true
    // Any remote line during a dry run means the dry activation has started.
    if (source === 'activate' && this.stage !== 'confirm') this.enterStage('activate')
    if (source === 'activate' && REMOTE_CONFIRM_LINES.some(p => p.test(message))) {
      this.enterStage('confirm')
      this.awaitingConfirmation = true
    }
    if (
      source === 'revoke' ||
      (source === 'activate' && REMOTE_DEACTIVATE_LINES.some(p => p.test(message)))
    ) {
      this.rollback ??= {
        message: clip(message),
        stage: this.stage,
        source: source === 'revoke' ? 'revoke' : 'activate'
      }
    }
    if (ROLLBACK_FAILURE_LINES.some(p => p.test(message))) {
      this.rollbackFailure ??= { message: clip(message), stage: this.stage }
    }
    if (
      level === 'ERROR' &&
      (source !== 'wait' || this.remoteError === null || this.remoteErrorFromWait)
    ) {
      this.remoteError = { message: clip(message), stage: this.stage }
      this.remoteErrorFromWait = source === 'wait'
    }
  }

  private onPlainLine(line: string): void {
    if (line === '') return
    if (this.onPanicLine(line)) return
    if (!NIX_COPY_LINE.test(line)) this.dryOutput.add(clip(line))
    if (line.startsWith('would ')) {
      if (this.onWouldLine(line)) return
    }
    if (this.initWarningPending) {
      // switch-to-configuration wraps the init warning over three lines; keep them all.
      const continued =
        (this.initWarningPending === 1 &&
          /^incompatible with the current configuration/.test(line)) ||
        (this.initWarningPending === 2 && /^won't take effect until/.test(line))
      this.initWarningPending = continued && this.initWarningPending === 1 ? 2 : 0
      if (continued && this.dryFailure !== null) {
        this.dryFailure = clip(`${this.dryFailure} ${line.replace(/\s+/g, ' ')}`)
        return
      }
    }
    if (DRY_FAILURE_LINES.some(p => p.test(line))) {
      // "Pre-switch check 'x' failed" says more than the "checks failed" after it.
      if (this.dryFailure === null) {
        this.dryFailure = clip(line)
        this.initWarningPending = /that is$/.test(line) ? 1 : 0
      }
      this.enterDryActivation()
      return
    }
    for (const [pattern, kind] of SSH_FAILURES) {
      if (pattern.test(line)) {
        // Keep the most specific reason: nix's generic "failed to start SSH
        // connection" follows ssh's own message and must not replace it.
        if (kind !== 'other' || this.sshFailure === null || this.sshFailure.stage !== this.stage) {
          this.sshFailure = { message: clip(line), stage: this.stage, kind }
        }
        return
      }
    }
    const error = /^error:\s*(.*)$/.exec(line)
    if (error) {
      this.firstPlainError ??= clip(line)
      const detail = error[1].trim()
      // Nix prints a bare "error:" before a trace; the summary line follows.
      if (detail !== '' && !/^\d+ dependenc(y|ies) of derivation /.test(detail)) {
        this.commandError ??= { message: clip(line), stage: this.stage }
      }
    }
  }

  /** Rust's panic report: `thread 'main' panicked at FILE:L:C:` then the message (older: on the same line). */
  private onPanicLine(line: string): boolean {
    if (this.panicMessagePending) {
      this.panicMessagePending = false
      this.panic ??= clip(line)
      return true
    }
    const panicked = /^thread '[^']*' panicked at (.*)$/.exec(line)
    if (!panicked) return false
    if (/:\d+:\d+:$/.test(panicked[1])) this.panicMessagePending = this.panic === null
    else this.panic ??= clip(panicked[1])
    return true
  }

  private onWouldLine(line: string): boolean {
    if (WOULD_ACTIVATE.test(line)) {
      this.wouldActivate = true
      this.sawWouldActivate = true
      this.enterDryActivation()
      return true
    }
    if (WOULD_RESTART_SYSTEMD.test(line)) {
      this.restartSystemd = true
      this.sawChanges = true
      this.enterDryActivation()
      return true
    }
    const swap = WOULD_STOP_SWAP.exec(line)
    if (swap) {
      this.units.stop.add([swapUnitName(swap[1].trim())])
      this.sawChanges = true
      this.enterDryActivation()
      return true
    }
    const match = WOULD_UNITS.exec(line)
    if (!match) return false
    const names = match[2].split(', ')
    const lists = {
      stop: this.units.stop,
      'NOT stop': this.units.notStop,
      'NOT restart': this.units.notRestart,
      reload: this.units.reload,
      restart: this.units.restart,
      start: this.units.start
    } as const
    lists[match[1] as keyof typeof lists].add(names)
    this.sawChanges = true
    this.enterDryActivation()
    return true
  }

  private enterDryActivation(): void {
    this.hostOutputInStage = true
    if (this.stage !== 'activate') this.enterStage('activate')
  }

  /** A new dry activation's output starts after a stage line or the previous one's end. */
  private startDryActivationWindow(): void {
    this.wouldActivate = false
    this.dryOutput = new Ring(DRY_ACTIVATION_LINES)
  }
}

/**
 * The systemd unit of a swap device (`/dev/sda2` → `dev-sda2.swap`), escaped as
 * systemd escapes paths: `/` → `-`; bytes other than ASCII letters, digits, `:`,
 * `_` and a non-leading `.` → `\xNN`.
 */
export function swapUnitName(device: string): string {
  const path = device.replace(/\/+/g, '/').replace(/^\/|\/$/g, '')
  if (path === '') return '-.swap'
  let out = ''
  for (const [i, byte] of Buffer.from(path, 'utf8').entries()) {
    const ch = String.fromCharCode(byte)
    if (ch === '/') out += '-'
    else if (/[A-Za-z0-9:_]/.test(ch) || (ch === '.' && i > 0)) out += ch
    else out += `\\x${byte.toString(16).padStart(2, '0')}`
  }
  return `${out}.swap`
}
