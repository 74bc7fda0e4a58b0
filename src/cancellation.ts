/**
 * The job's cancellation and the time the report has after it.
 *
 * On cancel the runner sends SIGINT, about 7.5 s later SIGTERM, and about
 * 2.5 s after that kills the step. Everything after the first signal is
 * bounded so that the step has exited before the SIGTERM:
 *
 *   0 s   running nodes get SIGTERM, key scans and nix are stopped
 *   2 s   SIGKILL to what is left of them; 1 s more for their output
 *   3 s   outputs and summary written
 *   5 s   deadline: GitHub API calls still waiting are given up, later ones skipped
 *   7 s   log groups still printing are cut; the step exits
 */

/** From the first signal to the point where work waiting on GitHub is given up. */
export const REPORT_DEADLINE_MS = 5_000
/** Local output (the log groups) may go on this much longer than the deadline. */
export const LOCAL_OUTPUT_EXTRA_MS = 2_000
/** A second signal means the kill is near: the deadline moves to at most this far away. */
export const SECOND_SIGNAL_DEADLINE_MS = 1_000

export type Bounded<T> = { done: true; value: T } | { done: false }

export class Cancellation {
  private readonly controller = new AbortController()
  private deadline = Infinity
  private timer: NodeJS.Timeout | undefined
  private expire: () => void = () => undefined
  /** Settles at the deadline; never while the job is not cancelled. */
  private readonly expired = new Promise<void>(resolve => {
    this.expire = resolve
  })
  private readonly warned = new Set<string>()

  constructor(
    private readonly deadlineMs = REPORT_DEADLINE_MS,
    private readonly secondSignalMs = SECOND_SIGNAL_DEADLINE_MS
  ) {}

  /** Aborted when the job is cancelled. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted
  }

  /** The first call cancels the job and starts the clock; a later one can only bring the deadline closer. */
  cancel(): void {
    if (!this.cancelled) {
      this.controller.abort()
      this.setDeadline(Date.now() + this.deadlineMs)
    } else {
      this.setDeadline(Math.min(this.deadline, Date.now() + this.secondSignalMs))
    }
  }

  /** Milliseconds until the deadline (plus `extraMs`); Infinity while the job is not cancelled. */
  timeLeft(extraMs = 0): number {
    return this.deadline === Infinity ? Infinity : Math.max(0, this.deadline + extraMs - Date.now())
  }

  /**
   * Waits for `work`, but once the job is cancelled no longer than the
   * deadline plus `extraMs`: `{ done: false }` then, and the work is left
   * behind (the step exits without it).
   */
  async within<T>(work: Promise<T>, extraMs = 0): Promise<Bounded<T>> {
    return Promise.race([
      work.then(value => ({ done: true as const, value })),
      this.expired
        .then(() => delay(Math.max(0, this.deadline + extraMs - Date.now())))
        .then(() => ({ done: false as const }))
    ])
  }

  /**
   * Runs `step` bounded by `within`; once its time after a cancel is spent
   * it is not started at all. Either way the cut is reported through `warn`,
   * once per `what`.
   */
  async bounded(
    what: string,
    step: () => Promise<unknown>,
    warn: (message: string) => void,
    extraMs = 0
  ): Promise<void> {
    if (this.timeLeft(extraMs) === 0) {
      this.warnOnce(
        what,
        warn,
        `${what}: skipped, because the job was cancelled and the time for the report is spent.`
      )
      return
    }
    const result = await this.within(step(), extraMs)
    if (!result.done) {
      this.warnOnce(
        what,
        warn,
        `${what}: given up, because the job was cancelled and the report must be done before the runner stops this step.`
      )
    }
  }

  private warnOnce(what: string, warn: (message: string) => void, message: string): void {
    if (this.warned.has(what)) return
    this.warned.add(what)
    warn(message)
  }

  private setDeadline(at: number): void {
    this.deadline = at
    if (this.timer) clearTimeout(this.timer)
    // Kept referenced: a promise waiting on the deadline must not let the step end unsettled.
    this.timer = setTimeout(this.expire, Math.max(0, at - Date.now()))
  }
}

function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
