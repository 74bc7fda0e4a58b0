/** The time the report has after a cancel: work waiting on others is given up at a deadline. */
import { describe, expect, it } from '@jest/globals'
import { Cancellation } from '../../src/cancellation.js'

const never = new Promise<never>(() => undefined)
const after = <T>(ms: number, value: T): Promise<T> =>
  new Promise(resolve => setTimeout(() => resolve(value), ms))

describe('Cancellation', () => {
  it('waits for work as long as it takes while the job is not cancelled', async () => {
    const cancellation = new Cancellation(10)
    expect(cancellation.timeLeft()).toBe(Infinity)
    expect(await cancellation.within(after(50, 'done'))).toEqual({ done: true, value: 'done' })
  })

  it('gives up on work that outlives the deadline after a cancel', async () => {
    const cancellation = new Cancellation(30)
    const waiting = cancellation.within(never)
    cancellation.cancel()
    expect(cancellation.signal.aborted).toBe(true)
    expect(await waiting).toEqual({ done: false })
    // Work that finishes in time is still awaited.
    const quick = new Cancellation(1_000)
    quick.cancel()
    expect(await quick.within(after(10, 1))).toEqual({ done: true, value: 1 })
  })

  it('a second signal brings the deadline closer, never further', async () => {
    const cancellation = new Cancellation(60_000, 20)
    cancellation.cancel()
    expect(cancellation.timeLeft()).toBeGreaterThan(1_000)
    const waiting = cancellation.within(never)
    cancellation.cancel()
    expect(cancellation.timeLeft()).toBeLessThanOrEqual(20)
    expect(await waiting).toEqual({ done: false })
    const late = new Cancellation(10, 60_000)
    late.cancel()
    late.cancel()
    expect(late.timeLeft()).toBeLessThanOrEqual(10)
  })

  it('bounded: skips a step once the time is spent, gives one up at the deadline, warns once per step', async () => {
    const warnings: string[] = []
    const warn = (message: string): void => void warnings.push(message)
    const cancellation = new Cancellation(20)
    cancellation.cancel()
    await cancellation.bounded('deployments', () => never, warn)
    await cancellation.bounded('deployments', () => never, warn)
    let started = false
    await cancellation.bounded(
      'pr-comment',
      async () => {
        started = true
      },
      warn
    )
    expect(started).toBe(false)
    expect(warnings).toEqual([
      expect.stringMatching(/^deployments: given up, because the job was cancelled/),
      expect.stringMatching(/^pr-comment: skipped, because the job was cancelled/)
    ])
  })

  it('bounded: a step with extra time may go on past the deadline', async () => {
    const warnings: string[] = []
    const cancellation = new Cancellation(10)
    cancellation.cancel()
    let finished = false
    await cancellation.bounded(
      'log groups',
      async () => {
        await after(40, null)
        finished = true
      },
      message => warnings.push(message),
      5_000
    )
    expect(finished).toBe(true)
    expect(warnings).toEqual([])
  })
})
