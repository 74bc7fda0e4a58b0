/** The post step cleans up even when the main step was killed outright. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'
import { removeRunDirs } from '../../test-support/action/run-action.js'
import { leftovers, runOnFleet } from '../../test-support/action/fleet-run.js'
import { findMarkedProcesses } from '../../src/commands/leftover-processes.js'

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'stuck', behaviour: 'hang' },
      { name: 'slow', hostCostMs: 30_000 }
    ]
  })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await removeRunDirs()
})

describe('post step after a SIGKILLed main step', () => {
  it('stops the deploy-rs processes left behind and removes the workspace', async () => {
    let killedAt = 0
    const run = await runOnFleet(fleet, {
      inputs: { targets: 'stuck, slow', 'skip-checks': 'true' },
      onStart: pid => {
        const poll = setInterval(async () => {
          const active = await Promise.all(['stuck', 'slow'].map(node => fleet.hostLog(node)))
          if (active.every(log => log.some(line => line.startsWith('push')))) {
            clearInterval(poll)
            killedAt = Date.now()
            process.kill(pid, 'SIGKILL')
          }
        }, 100)
      },
      timeoutMs: 60_000
    })
    expect(killedAt).toBeGreaterThan(0)
    expect(run.main.signal).toBe('SIGKILL')
    expect(run.state.workspace).toMatch(/deploy-rs-action-/)
    expect(run.post?.code).toBe(0)
    expect(run.post?.stdout).toMatch(
      /::warning::Stopped \d+ process\(es\) the main step left running/
    )
    expect(await findMarkedProcesses(run.state.workspace)).toEqual([])
    expect(await leftovers(run.runnerTemp)).toEqual([])
  }, 90_000)
})
