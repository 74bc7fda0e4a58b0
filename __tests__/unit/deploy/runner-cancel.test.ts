/**
 * The runner on cancellation: a short TERM→KILL grace of its own, a bounded
 * wait for output after the KILL, and no node started once the job is cancelled.
 */
import { describe, expect, it } from '@jest/globals'
import { PassThrough } from 'node:stream'
import type { Launcher, RunningProcess } from '../../../src/commands/process.js'
import { runDeploys, type RunnerOptions } from '../../../src/deploy/runner.js'
import { jobs, tempDir } from './support.js'

/**
 * A deploy-rs that never ends on its own. `ignoresTerm`: only SIGKILL ends it;
 * `unkillable`: nothing does (its output stays open, like a process that left the group).
 */
function stubbornLauncher(kind: 'ignoresTerm' | 'unkillable') {
  const signals: string[] = []
  const launched: string[] = []
  const launch: Launcher = argv => {
    launched.push(argv[argv.length - 1])
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    stderr.write('🚀 ℹ️ [deploy] [INFO] Activating profile `system` for node `x`\n')
    let end: () => void = () => undefined
    const exited = new Promise<{
      code: number | null
      signal: NodeJS.Signals | null
      startError: Error | null
    }>(resolve => {
      end = () => {
        stdout.end()
        stderr.end()
        resolve({ code: null, signal: 'SIGKILL', startError: null })
      }
    })
    const child: RunningProcess = {
      pid: 1,
      stdout,
      stderr,
      exited,
      killGroup: signal => {
        signals.push(signal)
        if (signal === 'SIGKILL' && kind === 'ignoresTerm') end()
      }
    }
    return child
  }
  return { launch, signals, launched }
}

async function options(overrides: Partial<RunnerOptions>): Promise<RunnerOptions> {
  return {
    parallel: 1,
    failFast: false,
    hostTimeoutMs: 600_000,
    dryRun: false,
    logsDir: await tempDir('runner-cancel-test-'),
    env: {},
    launch: stubbornLauncher('ignoresTerm').launch,
    abortSignal: new AbortController().signal,
    echo: () => undefined,
    // The host-timeout grace stays long: cancellation must not wait for it.
    killGraceMs: 600_000,
    cancelKillGraceMs: 20,
    cancelDrainMs: 20,
    ...overrides
  }
}

describe('runDeploys on cancellation', () => {
  it('sends TERM, then KILL after the cancel grace (not the host-timeout grace), to a node that ignores TERM', async () => {
    const { launch, signals } = stubbornLauncher('ignoresTerm')
    const cancel = new AbortController()
    const opts = await options({ launch, abortSignal: cancel.signal })
    setTimeout(() => cancel.abort(), 20)
    const reports = await runDeploys(jobs('stubborn'), opts)
    expect(reports[0].result).toMatchObject({ status: 'cancelled', stage: 'activate' })
    expect(signals.slice(0, 2)).toEqual(['SIGTERM', 'SIGKILL'])
  })

  it('reports a node whose output never ends as cancelled once the drain after the KILL is over', async () => {
    const { launch, signals } = stubbornLauncher('unkillable')
    const cancel = new AbortController()
    const opts = await options({ launch, abortSignal: cancel.signal })
    setTimeout(() => cancel.abort(), 20)
    const reports = await runDeploys(jobs('escaped', 'pending'), opts)
    expect(reports.map(r => r.result.status)).toEqual(['cancelled', 'cancelled'])
    expect(signals).toContain('SIGKILL')
  })

  it('does not start a node when the job was cancelled while a stage before deploy-rs waited', async () => {
    const { launch, launched } = stubbornLauncher('ignoresTerm')
    const cancel = new AbortController()
    const reports = await runDeploys(
      jobs('web'),
      await options({
        launch,
        abortSignal: cancel.signal,
        before: [
          {
            name: 'start hook',
            run: async () => {
              cancel.abort()
              return {}
            }
          }
        ]
      })
    )
    expect(launched).toEqual([])
    expect(reports[0].result).toMatchObject({ status: 'cancelled', exitCode: null })
  })
})
