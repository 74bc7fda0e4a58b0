/**
 * After-stages that also run when deploy-rs failed once it had pushed (the
 * packages diff: the new closure is on the host), and the record they get:
 * the new paths from deploy-rs's plan.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import type { Launcher } from '../../../src/commands/process.js'
import type { NodeReport, Stage } from '../../../src/model.js'
import { runNodePipeline, type NodeStage } from '../../../src/deploy/node-pipeline.js'
import { notStarted } from '../../../src/deploy/outcome.js'
import { runDeploys } from '../../../src/deploy/runner.js'
import type { PlannedNode } from '../../../src/plan/targets.js'

const node: PlannedNode = {
  name: 'web',
  hostname: 'web.lan',
  sshUser: null,
  sshOpts: [],
  profiles: ['system'],
  port: 22,
  targetProfiles: ['system'],
  wholeNode: true
}

function deployedAs(status: NodeReport['result']['status'], stage: Stage | null): NodeReport {
  return { ...notStarted(node, false, status, 'x', stage), newPaths: { system: '/nix/store/p' } }
}

function stages(events: string[]): NodeStage[] {
  return [
    {
      name: 'health',
      run: async () => {
        events.push('health')
        return {}
      }
    },
    {
      name: 'packages',
      alsoAfterPush: true,
      run: async (_node, _signal, deployed) => {
        events.push(`packages:${deployed?.newPaths?.system ?? 'none'}`)
        return { fields: { packages: null }, record: { packagesNote: 'noted' } }
      }
    }
  ]
}

async function run(status: NodeReport['result']['status'], stage: Stage | null) {
  const events: string[] = []
  const record = await runNodePipeline(node, {
    before: [],
    deploy: async () => deployedAs(status, stage),
    after: stages(events),
    dryRun: false,
    abortSignal: new AbortController().signal
  })
  return { events, record }
}

describe('after-stages and a failed deploy', () => {
  it('a deploy that succeeded runs every after-stage, each given the record', async () => {
    const { events, record } = await run('deployed', null)
    expect(events).toEqual(['health', 'packages:/nix/store/p'])
    expect(record.result.packages).toBeNull()
    expect(record.packagesNote).toBe('noted')
  })

  it('a failure while activating or confirming runs only the stages marked alsoAfterPush', async () => {
    for (const [status, stage] of [
      ['rolled-back', 'activate'],
      ['failed', 'confirm'],
      ['failed', 'activate']
    ] as const) {
      const { events, record } = await run(status, stage)
      expect(events).toEqual(['packages:/nix/store/p'])
      expect(record.result.status).toBe(status)
      expect(record.packagesNote).toBe('noted')
    }
  })

  it('a failure before the push, a timeout, a lost host or a cancel runs none', async () => {
    for (const [status, stage] of [
      ['failed', 'build'],
      ['unreachable', 'push'],
      ['failed', null],
      ['timed-out', 'activate'],
      ['unreachable', 'activate'],
      ['cancelled', 'activate']
    ] as const) {
      const { events, record } = await run(status, stage)
      expect(events).toEqual([])
      expect(record.result.packages).toBeUndefined()
    }
  })
})

describe("the record's new paths", () => {
  const made: string[] = []
  afterAll(() => Promise.all(made.map(dir => rm(dir, { recursive: true, force: true }))))

  it("come from deploy-rs's plan", async () => {
    const INFO = (msg: string): string => `🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m] ${msg}\n`
    const path = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-web-system'
    const launch: Launcher = () => {
      const stdout = new PassThrough()
      const stderr = new PassThrough()
      const exited = new Promise<{ code: number; signal: null; startError: null }>(resolve =>
        setTimeout(() => {
          stderr.write(INFO('The following profiles are going to be deployed:'))
          stderr.write(`[web.system]\nuser = "root"\npath = "${path}"\n\n`)
          stderr.write(INFO('Deployment confirmed.'))
          stdout.end()
          stderr.end()
          resolve({ code: 0, signal: null, startError: null })
        }, 5)
      )
      return { pid: undefined, stdout, stderr, exited, killGroup: () => undefined }
    }
    const logsDir = await mkdtemp(join(tmpdir(), 'after-push-test-'))
    made.push(logsDir)
    const [report] = await runDeploys([{ node, argv: ['deploy', 'web'] }], {
      parallel: 1,
      failFast: false,
      hostTimeoutMs: 60_000,
      dryRun: false,
      logsDir,
      env: {},
      launch,
      abortSignal: new AbortController().signal,
      echo: () => undefined
    })
    expect(report?.newPaths).toEqual({ system: path })
  })
})
