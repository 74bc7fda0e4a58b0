/**
 * The runner and each node's log file: separate files for names that
 * sanitise alike, a file that cannot be written or is over its cap never
 * changes a result, and the parser and live echo still see every line.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PassThrough } from 'node:stream'
import type { Launcher, RunningProcess } from '../../../src/commands/process.js'
import { logFileName } from '../../../src/deploy/log-file.js'
import { runDeploys, type RunnerOptions } from '../../../src/deploy/runner.js'
import { jobs, tempDir } from './support.js'

const INFO = (msg: string): string => `🚀 ℹ️ [deploy] [INFO] ${msg}\n`

/** A deploy-rs that prints `extraLines` numbered lines, then succeeds; the node is argv's last word. */
function printingLauncher(extraLines = 0): Launcher {
  return argv => {
    const node = argv[argv.length - 1]
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const exited = new Promise<{
      code: number | null
      signal: NodeJS.Signals | null
      startError: Error | null
    }>(resolve => {
      setTimeout(() => {
        stderr.write(INFO(`Activating profile \`system\` for node \`${node}\``))
        for (let i = 1; i <= extraLines; i++) stdout.write(`${node} output line ${i}\n`)
        stderr.write(INFO('Deployment confirmed.'))
        stdout.end()
        stderr.end()
        resolve({ code: 0, signal: null, startError: null })
      }, 5)
    })
    const process: RunningProcess = { pid: 1, stdout, stderr, exited, killGroup: () => undefined }
    return process
  }
}

async function options(overrides: Partial<RunnerOptions> = {}): Promise<RunnerOptions> {
  return {
    parallel: 4,
    failFast: false,
    hostTimeoutMs: 10_000,
    dryRun: false,
    logsDir: await tempDir('runner-logs-test-'),
    env: {},
    launch: printingLauncher(),
    abortSignal: new AbortController().signal,
    echo: () => undefined,
    ...overrides
  }
}

describe('node log files', () => {
  it('gives nodes whose names sanitise alike separate files inside the logs directory', async () => {
    const names = ['a b', 'a_b', 'a/b', '../up', '.hidden']
    const opts = await options()
    const reports = await runDeploys(jobs(...names), opts)
    const files = reports.map(r => String(r.logFile))
    expect(new Set(files).size).toBe(names.length)
    for (const [i, file] of files.entries()) {
      expect(dirname(file)).toBe(opts.logsDir)
      const text = await readFile(file, 'utf8')
      expect(text).toContain(`for node \`${names[i]}\``)
      for (const other of names.filter(n => n !== names[i])) {
        expect(text).not.toContain(`for node \`${other}\``)
      }
    }
    expect((await readdir(opts.logsDir)).sort()).toEqual(files.map(f => basename(f)).sort())
  })

  it('deploys a node whose log file cannot be created, and says why the file is missing', async () => {
    const opts = await options({ parallel: 1 })
    // The file name is taken by a directory: root cannot open it for writing either.
    await mkdir(join(opts.logsDir, logFileName(0, 'web')))
    const echoed: string[] = []
    const reports = await runDeploys(jobs('web', 'db'), {
      ...opts,
      launch: printingLauncher(500),
      echo: line => echoed.push(line)
    })
    expect(reports.map(r => r.result.status)).toEqual(['deployed', 'deployed'])
    expect(reports[0].logFileIssue).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/EEXIST/)
    })
    // The live echo and the parser still saw every line.
    expect(echoed.filter(line => line.startsWith('web | web output line'))).toHaveLength(500)
    expect(reports[0].logTail.at(-1)).toMatch(/Deployment confirmed\.$/)
    expect(reports[1].logFileIssue).toBeNull()
    expect(await readFile(String(reports[1].logFile), 'utf8')).toContain('db output line 500')
  })

  it('caps a node log file, keeps its head, and still parses the whole output', async () => {
    const reports = await runDeploys(
      jobs('big'),
      await options({ launch: printingLauncher(2_000), logFileCapBytes: 4_096 })
    )
    const [report] = reports
    expect(report.result.status).toBe('deployed')
    expect(report.logFileIssue).toMatchObject({ kind: 'capped', capBytes: 4_096 })
    const text = await readFile(String(report.logFile), 'utf8')
    const kept = text.slice(0, text.indexOf('… this log file stops here'))
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(4_096)
    expect(kept).toContain('big output line 1\n')
    const cut = report.logFileIssue?.kind === 'capped' ? report.logFileIssue.cutBytes : 0
    expect(Buffer.byteLength(kept) + cut).toBe(report.logBytes)
    // The end of the log is still at the end of the file, after the note.
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/Deployment confirmed\.$/)
    expect(report.logTail.at(-1)).toMatch(/Deployment confirmed\.$/)
  })
})
