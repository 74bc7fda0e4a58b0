/**
 * The per-node pipeline (stages before deploy-rs, deploy-rs, stages after) and
 * the scheduler's order (canary nodes, then the rest), with a fake deploy-rs.
 */
import { describe, expect, it } from '@jest/globals'
import { PassThrough } from 'node:stream'
import type { Launcher } from '../../../src/commands/process.js'
import type { NodeStage } from '../../../src/deploy/node-pipeline.js'
import { runDeploys, type RunnerOptions } from '../../../src/deploy/runner.js'
import { jobs, tempDir } from './support.js'

const INFO = (msg: string): string => `🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m] ${msg}\n`
const ERROR = (msg: string): string => `🚀 ❌ [deploy] [\x1b[38;5;196mERROR\x1b[0m] ${msg}\n`

/** deploy-rs that succeeds, or fails for the nodes in `failing`; records `deploy:NODE`. */
function fakeDeployRs(events: string[], failing: string[] = []): Launcher {
  return argv => {
    const node = argv[argv.length - 1]
    events.push(`deploy:${node}`)
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const exited = new Promise<{
      code: number | null
      signal: NodeJS.Signals | null
      startError: null
    }>(resolve =>
      setTimeout(() => {
        const fails = failing.includes(node)
        stderr.write(
          fails
            ? ERROR(`Failed to deploy profile to node ${node}: boom`)
            : INFO('Deployment confirmed.')
        )
        stdout.end()
        stderr.end()
        resolve({ code: fails ? 1 : 0, signal: null, startError: null })
      }, 5)
    )
    return { pid: undefined, stdout, stderr, exited, killGroup: () => undefined }
  }
}

/** A stage that records when it ran, and fails the nodes in `failing`. */
function recordingStage(name: string, events: string[], failing: string[] = []): NodeStage {
  return {
    name,
    async run(node) {
      events.push(`${name}:${node.name}`)
      if (failing.includes(node.name))
        return {
          failure: { status: 'failed', stage: null, error: `${name} found ${node.name} broken` }
        }
      return {
        fields: {
          changes: { stop: [name], restart: [], start: [], reload: [], restartSystemd: false }
        }
      }
    }
  }
}

async function options(
  launch: Launcher,
  overrides: Partial<RunnerOptions> = {}
): Promise<RunnerOptions> {
  const logsDir = await tempDir('node-pipeline-test-')
  return {
    parallel: 1,
    failFast: false,
    hostTimeoutMs: 60_000,
    dryRun: false,
    logsDir,
    env: {},
    launch,
    abortSignal: new AbortController().signal,
    echo: () => undefined,
    ...overrides
  }
}

describe('the node pipeline', () => {
  it('runs the stages before deploy-rs, deploy-rs, then the stages after, per node', async () => {
    const events: string[] = []
    const reports = await runDeploys(
      jobs('a'),
      await options(fakeDeployRs(events), {
        before: [recordingStage('probe', events), recordingStage('read', events)],
        after: [recordingStage('health', events)]
      })
    )
    expect(events).toEqual(['probe:a', 'read:a', 'deploy:a', 'health:a'])
    expect(reports[0].result.status).toBe('deployed')
    // What the last stage returned lands on the node's one record.
    expect(reports[0].result.changes?.stop).toEqual(['health'])
  })

  it('a failing stage before deploy-rs ends the node there: deploy-rs never starts on it', async () => {
    const events: string[] = []
    const reports = await runDeploys(
      jobs('a', 'b'),
      await options(fakeDeployRs(events), { before: [recordingStage('probe', events, ['a'])] })
    )
    expect(events).toEqual(['probe:a', 'probe:b', 'deploy:b'])
    expect(reports.map(r => r.result.status)).toEqual(['failed', 'deployed'])
    expect(reports[0].result).toMatchObject({ error: 'probe found a broken', exitCode: null })
    expect(reports[0].logFile).toBeNull()
  })

  it('a failing stage after deploy-rs fails the node, and fail-fast counts it', async () => {
    const events: string[] = []
    const reports = await runDeploys(
      jobs('a', 'b'),
      await options(fakeDeployRs(events), {
        failFast: true,
        after: [recordingStage('health', events, ['a'])]
      })
    )
    expect(events).toEqual(['deploy:a', 'health:a'])
    expect(reports.map(r => r.result.status)).toEqual(['failed', 'skipped'])
    expect(reports[0].result.error).toBe('health found a broken')
    expect(reports[0].logFile).not.toBeNull()
  })

  it('runs no stage after a deploy-rs that failed', async () => {
    const events: string[] = []
    await runDeploys(
      jobs('a'),
      await options(fakeDeployRs(events, ['a']), { after: [recordingStage('health', events)] })
    )
    expect(events).toEqual(['deploy:a'])
  })
})

describe('the scheduler with canary nodes', () => {
  it('deploys the canary nodes first, then the rest in plan order', async () => {
    const events: string[] = []
    const reports = await runDeploys(
      jobs('a', 'b', 'c'),
      await options(fakeDeployRs(events), { canary: new Set(['c']), parallel: 1 })
    )
    expect(events).toEqual(['deploy:c', 'deploy:a', 'deploy:b'])
    expect(reports.map(r => r.result.node)).toEqual(['a', 'b', 'c'])
  })

  it('skips the rest, naming the canary, when a canary did not succeed', async () => {
    const events: string[] = []
    const reports = await runDeploys(
      jobs('a', 'b', 'c'),
      await options(fakeDeployRs(events, ['b']), { canary: new Set(['b']), parallel: 2 })
    )
    expect(events).toEqual(['deploy:b'])
    expect(reports.map(r => r.result.status)).toEqual(['skipped', 'failed', 'skipped'])
    expect(reports[0].result.error).toMatch(/canary node b ended failed/)
  })
})
