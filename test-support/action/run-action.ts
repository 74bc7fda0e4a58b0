/**
 * Runs the bundled action the way the GitHub runner does: INPUT_* variables,
 * GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, an event payload
 * file, then the post step with the saved state as STATE_* variables.
 */
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The bundle under test: dist/, or another build of it (env DEPLOY_RS_ACTION_DIST, e.g. a private build while dist/ is rebuilt). */
export const DIST_DIR = process.env.DEPLOY_RS_ACTION_DIST || join(PROJECT_ROOT, 'dist')
export const MAIN_ENTRY = join(DIST_DIR, 'index.js')
export const POST_ENTRY = join(DIST_DIR, 'post', 'index.js')
/** The Node that runs the bundle, as the runner would (env DEPLOY_RS_ACTION_NODE, e.g. Node 24 in .ci/run). */
export const ACTION_NODE = process.env.DEPLOY_RS_ACTION_NODE || process.execPath

export interface ActionRunOptions {
  inputs: Record<string, string>
  eventName?: string
  eventPayload?: Record<string, unknown>
  /** Extra environment (PATH with the fleet's bin dir, scenario files, GITHUB_API_URL...). */
  env?: Record<string, string>
  /** Kill the main step after this long (a test backstop, never reached when things work). */
  timeoutMs?: number
  /** Called with the main process once it started (e.g. to send it SIGTERM). */
  onStart?: (pid: number) => void
  /** Skip the post step. */
  skipPost?: boolean
  /** Fills the run's HOME before the action starts (e.g. a ~/.ssh that must stay untouched). */
  prepareHome?: (home: string) => Promise<void>
}

export interface StepRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
}

export interface ActionRun {
  main: StepRun
  post: StepRun | null
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  /** The runner's temp dir of this run (checked empty after post): its own, or env.RUNNER_TEMP when the test shares one. */
  runnerTemp: string
  /** HOME of this run (checked: ~/.ssh never created). */
  home: string
  /** Parsed JSON outputs, for convenience. */
  results: Array<Record<string, unknown>>
  /** Workflow commands the step printed, e.g. add-mask values and error annotations. */
  commands: { command: string; properties: string; value: string }[]
}

/** Runs main then post; every run gets its own RUNNER_TEMP, HOME and files. */
export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const root = await mkdtemp(join(tmpdir(), 'dra-run-'))
  const runnerTemp = join(root, 'runner-temp')
  const home = join(root, 'home')
  const workspace = join(root, 'workspace')
  await Promise.all([mkdir(runnerTemp), mkdir(home), mkdir(workspace)])
  await options.prepareHome?.(home)
  const files = {
    output: join(root, 'github_output'),
    summary: join(root, 'step_summary'),
    state: join(root, 'github_state'),
    event: join(root, 'event.json')
  }
  await Promise.all([
    writeFile(files.output, ''),
    writeFile(files.summary, ''),
    writeFile(files.state, ''),
    writeFile(files.event, JSON.stringify(options.eventPayload ?? {}))
  ])
  const inputEnv: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.inputs)) {
    inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: options.eventName ?? 'push',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REPOSITORY: 'octo/homelab',
    GITHUB_REPOSITORY_OWNER: 'octo',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'deploy',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9/unreachable-api',
    // Nix keeps its cache under HOME; the fleet's flake evaluates offline.
    XDG_CACHE_HOME: join(root, 'cache')
  }
  const main = await runStep(MAIN_ENTRY, { ...baseEnv, ...inputEnv, ...options.env }, options)
  const state = parseCommandFile(await readFile(files.state, 'utf8'))
  let post: StepRun | null = null
  if (!options.skipPost) {
    const stateEnv: Record<string, string> = {}
    for (const [name, value] of Object.entries(state)) stateEnv[`STATE_${name}`] = value
    post = await runStep(
      POST_ENTRY,
      { ...baseEnv, ...inputEnv, ...options.env, ...stateEnv },
      { timeoutMs: 30_000 }
    )
  }
  const outputs = parseCommandFile(await readFile(files.output, 'utf8'))
  const summary = await readFile(files.summary, 'utf8')
  let results: Array<Record<string, unknown>> = []
  try {
    results = JSON.parse(outputs.results ?? '[]') as Array<Record<string, unknown>>
  } catch {
    results = []
  }
  const run: ActionRun = {
    main,
    post,
    outputs,
    state,
    summary,
    runnerTemp: options.env?.RUNNER_TEMP ?? runnerTemp,
    home,
    results,
    commands: parseWorkflowCommands(main.stdout + (post?.stdout ?? ''))
  }
  // The run dir holds nothing the test needs after this (temp and home are checked by the caller first).
  cleanups.push(() => rm(root, { recursive: true, force: true }))
  return run
}

const cleanups: Array<() => Promise<void>> = []

/** Removes every run directory made so far (call in afterAll). */
export async function removeRunDirs(): Promise<void> {
  await Promise.all(cleanups.splice(0).map(fn => fn()))
}

function runStep(
  entry: string,
  env: Record<string, string>,
  options: { timeoutMs?: number; onStart?: (pid: number) => void }
): Promise<StepRun> {
  return new Promise(resolveStep => {
    const started = Date.now()
    const child = spawn(ACTION_NODE, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    if (child.pid !== undefined) options.onStart?.(child.pid)
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolveStep({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started
      })
    })
  })
}

/** Parses the `name<<DELIMITER` format of GITHUB_OUTPUT and GITHUB_STATE. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1)
      values[heredoc[1]] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (lines[i].includes('=')) {
      values[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return values
}

function parseWorkflowCommands(
  stdout: string
): { command: string; properties: string; value: string }[] {
  const commands: { command: string; properties: string; value: string }[] = []
  for (const line of stdout.split('\n')) {
    const match = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line)
    if (match)
      commands.push({ command: match[1], properties: (match[2] ?? '').trim(), value: match[3] })
  }
  return commands
}
