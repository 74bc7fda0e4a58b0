/**
 * The main step run in-process as the runner runs it: its env files
 * (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE), RUNNER_TEMP, INPUT_*
 * variables and a captured stdout; restored after each test. Shared by the
 * orchestration tests, which differ only in their fake Tools and inputs.
 */
import { afterAll, afterEach, beforeEach } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeResult } from '../../../src/model.js'

export const INFO = (msg: string): string => `🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m] ${msg}\n`
export const ERROR = (msg: string): string => `🚀 ❌ [deploy] [\x1b[38;5;196mERROR\x1b[0m] ${msg}\n`
export const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n'
export const HOST_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

const made: string[] = []
afterAll(() => made.forEach(dir => rmSync(dir, { recursive: true, force: true })))
// @actions/core keeps the first summary file it finds: one file for every test, emptied before each.
const summaryDir = mkdtempSync(join(tmpdir(), 'run-step-summary-'))
made.push(summaryDir)
const SUMMARY_FILE = join(summaryDir, 'summary')

let dir = ''
let saved: NodeJS.ProcessEnv = {}
let lines: string[] = []
const realWrite = process.stdout.write.bind(process.stdout)

export function setInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs))
    process.env[`INPUT_${name.toUpperCase()}`] = value
}

/** Sets the step up before each test of the file, with these inputs over the common ones. */
export function useStep(inputs: Record<string, string>): void {
  beforeEach(() => {
    saved = { ...process.env }
    dir = mkdtempSync(join(tmpdir(), 'run-step-test-'))
    made.push(dir)
    for (const file of ['output', 'state']) writeFileSync(join(dir, file), '')
    writeFileSync(SUMMARY_FILE, '')
    Object.assign(process.env, {
      RUNNER_TEMP: dir,
      GITHUB_STEP_SUMMARY: SUMMARY_FILE,
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STATE: join(dir, 'state')
    })
    setInputs({
      flake: '/fake-flake',
      'ssh-private-key': KEY,
      // An executable that exists: the launcher is fake, so it never runs.
      'deploy-rs': process.execPath,
      'dry-run': 'false',
      'fail-fast': 'false',
      parallel: '1',
      deployments: 'false',
      'pr-comment': 'false',
      ...inputs
    })
    lines = []
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk))
      return true
    }) as typeof process.stdout.write
  })
  afterEach(() => {
    process.stdout.write = realWrite
    process.env = saved
    process.exitCode = undefined
  })
}

/** This test's RUNNER_TEMP. */
export const runnerTemp = (): string => dir

/** What the step wrote to stdout, one chunk per write. */
export const stdoutLines = (): readonly string[] => lines

/** An output the step wrote (JSON), or undefined. */
export function output(name: string): unknown {
  const text = readFileSync(join(dir, 'output'), 'utf8')
  const match = new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(text)
  return match ? JSON.parse(match[2]) : undefined
}

/** The `results` output the step wrote. */
export function results(): NodeResult[] {
  const found = output('results')
  if (found === undefined) throw new Error('no results output')
  return found as NodeResult[]
}

export const statuses = (): Record<string, string> =>
  Object.fromEntries(results().map(result => [result.node, result.status]))

/** The step's `::error::` line (core.setFailed), if any. */
export const stepFailed = (): string | undefined => lines.find(line => line.startsWith('::error::'))

export const summary = (): string => readFileSync(SUMMARY_FILE, 'utf8')
