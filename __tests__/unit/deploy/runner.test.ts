/** The runner's scheduling with a fake launcher: bounds, fail-fast, timeout, cancellation. */
import { describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import { PassThrough } from 'node:stream'
import type { Launcher, RunningProcess } from '../../../src/commands/process.js'
import { runDeploys, type RunnerOptions } from '../../../src/deploy/runner.js'
import { jobs, tempDir } from './support.js'

const INFO = (msg: string): string => `🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m] ${msg}\n`
const ERROR = (msg: string): string => `🚀 ❌ [deploy] [\x1b[38;5;196mERROR\x1b[0m] ${msg}\n`

type Script = 'ok' | 'fail' | 'hang'

/**
 * A launcher whose processes follow a script per node (the node name is the last argv word);
 * each runs `runMs`, or its own time from `runMsOf`.
 */
function fakeLauncher(
  scripts: Record<string, Script>,
  runMs = 30,
  runMsOf: Record<string, number> = {}
) {
  const state = { running: 0, maxRunning: 0, started: [] as string[], signals: [] as string[] }
  const launch: Launcher = argv => {
    const node = argv[argv.length - 1]
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    state.running++
    state.maxRunning = Math.max(state.maxRunning, state.running)
    state.started.push(node)
    let finish: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void = () => {}
    const exited = new Promise<{
      code: number | null
      signal: NodeJS.Signals | null
      startError: Error | null
    }>(resolve => {
      finish = exit => {
        state.running--
        stdout.end()
        stderr.end()
        resolve({ ...exit, startError: null })
      }
    })
    const script = scripts[node] ?? 'ok'
    stderr.write(INFO(`Evaluating flake in .`))
    stderr.write(INFO(`Activating profile \`system\` for node \`${node}\``))
    if (script !== 'hang') {
      setTimeout(() => {
        if (script === 'ok') {
          stderr.write(INFO('Deployment confirmed.'))
          finish({ code: 0, signal: null })
        } else {
          stderr.write(ERROR(`Failed to deploy profile to node ${node}: boom`))
          finish({ code: 1, signal: null })
        }
      }, runMsOf[node] ?? runMs)
    }
    const process: RunningProcess = {
      pid: 1,
      stdout,
      stderr,
      exited,
      killGroup: signal => {
        state.signals.push(`${node}:${signal}`)
        if (script === 'hang') finish({ code: null, signal })
      }
    }
    return process
  }
  return { launch, state }
}

async function options(
  launch: Launcher,
  overrides: Partial<RunnerOptions> = {}
): Promise<RunnerOptions> {
  return {
    parallel: 2,
    failFast: false,
    hostTimeoutMs: 10_000,
    dryRun: false,
    logsDir: await tempDir('runner-test-'),
    env: {},
    launch,
    abortSignal: new AbortController().signal,
    echo: () => undefined,
    killGraceMs: 50,
    ...overrides
  }
}

describe('runDeploys', () => {
  it('runs at most `parallel` nodes at once and reports in job order', async () => {
    const { launch, state } = fakeLauncher({})
    const reports = await runDeploys(
      jobs('a', 'b', 'c', 'd', 'e'),
      await options(launch, { parallel: 2 })
    )
    expect(state.maxRunning).toBe(2)
    expect(reports.map(r => [r.result.node, r.result.status])).toEqual([
      ['a', 'deployed'],
      ['b', 'deployed'],
      ['c', 'deployed'],
      ['d', 'deployed'],
      ['e', 'deployed']
    ])
  })

  it('parallel 1 runs one after another', async () => {
    const { launch, state } = fakeLauncher({})
    await runDeploys(jobs('a', 'b', 'c'), await options(launch, { parallel: 1 }))
    expect(state.maxRunning).toBe(1)
    expect(state.started).toEqual(['a', 'b', 'c'])
  })

  it('keeps going after a failure without fail-fast', async () => {
    const { launch } = fakeLauncher({ b: 'fail' })
    const reports = await runDeploys(
      jobs('a', 'b', 'c', 'd'),
      await options(launch, { parallel: 1 })
    )
    expect(reports.map(r => r.result.status)).toEqual([
      'deployed',
      'failed',
      'deployed',
      'deployed'
    ])
  })

  it('with fail-fast starts nothing after the first failure; running nodes finish', async () => {
    // a fails at 30 ms while b (started with it) runs on to 300 ms; c and d never start.
    const { launch, state } = fakeLauncher({ a: 'fail', b: 'ok' }, 30, { b: 300 })
    const reports = await runDeploys(
      jobs('a', 'b', 'c', 'd'),
      await options(launch, { parallel: 2, failFast: true })
    )
    expect(reports.map(r => r.result.status)).toEqual(['failed', 'deployed', 'skipped', 'skipped'])
    expect(state.started).toEqual(['a', 'b'])
    expect(reports[2].result.error).toMatch(/fail-fast/)
  })

  it('stops a node after host-timeout with TERM then KILL to its group, and reports timed-out', async () => {
    const { launch, state } = fakeLauncher({ stuck: 'hang' })
    const started = Date.now()
    const reports = await runDeploys(
      jobs('stuck', 'fine'),
      await options(launch, { hostTimeoutMs: 100 })
    )
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(reports[0].result).toMatchObject({
      node: 'stuck',
      status: 'timed-out',
      stage: 'activate'
    })
    expect(reports[1].result.status).toBe('deployed')
    expect(state.signals).toContain('stuck:SIGTERM')
  })

  it('on cancellation stops running nodes and marks pending ones cancelled', async () => {
    const { launch, state } = fakeLauncher({ a: 'hang' })
    const cancel = new AbortController()
    setTimeout(() => cancel.abort(), 50)
    const reports = await runDeploys(
      jobs('a', 'b', 'c'),
      await options(launch, { parallel: 1, abortSignal: cancel.signal })
    )
    expect(reports.map(r => r.result.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
    expect(state.started).toEqual(['a'])
    expect(state.signals[0]).toBe('a:SIGTERM')
  })

  it('writes each node log to its own file and echoes lines with the node prefix', async () => {
    const { launch } = fakeLauncher({})
    const echoed: string[] = []
    const reports = await runDeploys(
      jobs('web'),
      await options(launch, { echo: line => echoed.push(line) })
    )
    const log = await readFile(String(reports[0].logFile), 'utf8')
    expect(log).toContain('Deployment confirmed.')
    expect(echoed.every(line => line.startsWith('web | '))).toBe(true)
    expect(reports[0].logTail.at(-1)).toMatch(/Deployment confirmed\.$/)
  })
})
