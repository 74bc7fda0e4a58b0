/** What the runner and node-pipeline tests share: planned nodes, their jobs, temporary log dirs. */
import { afterAll } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DeployJob } from '../../../src/deploy/runner.js'
import type { PlannedNode } from '../../../src/plan/targets.js'

/** A whole node with one `system` profile on port 22. */
export function planned(name: string): PlannedNode {
  return {
    name,
    hostname: `${name}.lan`,
    sshUser: null,
    sshOpts: [],
    profiles: ['system'],
    port: 22,
    targetProfiles: ['system'],
    wholeNode: true
  }
}

/** One deploy-rs job per node; the fake launchers read the node name from the last word. */
export const jobs = (...names: string[]): DeployJob[] =>
  names.map(name => ({ node: planned(name), argv: ['deploy', name] }))

const made: string[] = []
afterAll(() => Promise.all(made.map(dir => rm(dir, { recursive: true, force: true }))))

/** A fresh directory, removed after the test file. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
