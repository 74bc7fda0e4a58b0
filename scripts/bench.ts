/**
 * `npm run bench`: measures the bundled action (dist/) against the sandbox
 * fleet, everything in ONE run so that machine noise hits every figure alike.
 *
 *   1. Throughput: N nodes (each 1 s on the host per push and per activation)
 *      one sequential `deploy --targets` call, as a hand-written workflow does (ONE deploy-rs call for every node, checks per
 *      target, activation one after another) vs the action at several
 *      `parallel` values.
 *   2. The action's own overhead: one node through the action vs the bare
 *      deploy-rs stand-in call for that node (both skip checks).
 *   3. Unreachable hosts: healthy nodes alone vs the same plus black holes
 *      (accept TCP, never answer) with keyscan-timeout 2.
 *   4. Peak RSS of the main step while one node prints a flood of log lines.
 *   5. Cold start of `node dist/index.js` to its first log line; bundle sizes.
 *   6. Health checks: 8 nodes at parallel 8 with and without the systemd
 *      check, and the action (skip-checks) vs the bare loop a user would
 *      write instead: `deploy --skip-checks .#node &` for every node, `wait`.
 *   7. Packages: a dry run whose two closures hold 5,000 paths each vs a few.
 *
 * Flags: --quick (8 nodes, parallel 1/4/8, fewer repeats), --write (also write
 * docs/benchmark.md), --only SECTION (run one section, e.g. --only Health). Exits 0 when goals are missed (the figures are the
 * product) and 1 when a run did not behave as expected.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as prettier from 'prettier'
import {
  largeGenerationContents,
  startFleet,
  type Fleet,
  type FleetNodeSpec
} from '../test-support/fleet/index.js'
import {
  MAIN_ENTRY,
  POST_ENTRY,
  PROJECT_ROOT,
  removeRunDirs
} from '../test-support/action/run-action.js'
import { runOnFleet, statuses, type FleetRunOptions } from '../test-support/action/fleet-run.js'
import type { ActionRun } from '../test-support/action/run-action.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const writeDoc = args.includes('--write')
/** `--only SECTION`: run that section alone (e.g. `--only Health`). */
const onlyIndex = args.indexOf('--only')
const only = onlyIndex === -1 ? null : args[onlyIndex + 1]

const MiB = 1024 * 1024
const config = quick
  ? {
      nodes: 8,
      parallels: [1, 4, 8],
      overheadRepeats: 3,
      coldRepeats: 3,
      healthy: 6,
      blackholes: 2,
      floodBytes: 64 * MiB
    }
  : {
      nodes: 16,
      parallels: [1, 4, 8, 16],
      overheadRepeats: 5,
      coldRepeats: 5,
      healthy: 15,
      blackholes: 5,
      floodBytes: 256 * MiB
    }
const HOST_COST_MS = 1000
const KEYSCAN_TIMEOUT_S = 2
/** Defaults of src/ssh/host-keys.ts: 3 tries per host, waiting 1 s × n before try n+1. */
const KEYSCAN_TRIES = 3
const RUN_TIMEOUT_MS = 300_000

/** The commit the bench ran on, or `unknown`. */
function gitHead(): string {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8'
  })
  return result.status === 0 ? result.stdout.trim() : 'unknown'
}

/** One line of the table. */
interface Row {
  section: string
  scenario: string
  value: string
  detail: string
  goal: string
  verdict: 'goal met' | 'MISSED' | '—' | 'ERROR'
}

const rows: Row[] = []
const errors: string[] = []

class BenchError extends Error {}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
const ratio = (x: number): string => `${x.toFixed(2)}×`
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const verdict = (met: boolean): Row['verdict'] => (met ? 'goal met' : 'MISSED')

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

/** The env a deploy-rs call gets in a workflow step: the fleet's bin dir first, a fresh HOME and nix cache. */
async function freshEnv(
  fleet: Fleet
): Promise<{ env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dra-bench-'))
  return {
    env: {
      ...process.env,
      ...fleet.env,
      PATH: `${fleet.binDir}:${process.env.PATH}`,
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache')
    },
    cleanup: () => rm(dir, { recursive: true, force: true })
  }
}

interface Timed {
  code: number | null
  signal: NodeJS.Signals | null
  ms: number
  stdoutBytes: number
  stderrBytes: number
  stderrTail: string
}

/** The bare stand-in call for one node, as the action would make it, without the action. */
function bareDeployArgv(fleet: Fleet, node: string): string[] {
  return [
    ...fleet.standInCommand,
    '--skip-checks',
    `--ssh-opts=${fleet.sshOptsFor(node).join(' ')}`,
    `${fleet.flakeDir}#${node}`
  ]
}

/** Runs argv (no shell), draining and counting its output; wall time from spawn to exit. */
function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdoutBytes = 0
    let stderrBytes = 0
    let stderrTail = ''
    child.stdout.on('data', (chunk: Buffer) => (stdoutBytes += chunk.length))
    child.stderr.on('data', (chunk: Buffer) => {
      stderrBytes += chunk.length
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        ms: performance.now() - started,
        stdoutBytes,
        stderrBytes,
        stderrTail
      })
    })
  })
}

/** The stand-in call as a hand-written workflow makes it: ssh options that reach every node of the fleet. */
function seedSshOpts(fleet: Fleet, node: string): string {
  // fleet.sshOptsFor(node) pins one node's port (-p) and reads no config
  // (-F /dev/null); one call for every node takes the ports from the fleet's
  // ssh config instead, with the same strict options, key and known_hosts.
  const opts = fleet.sshOptsFor(node)
  const kept: string[] = []
  for (let i = 0; i < opts.length; i++) {
    if (opts[i] === '-F' || opts[i] === '-p') i++
    else kept.push(opts[i])
  }
  return ['-F', fleet.sshConfigPath, ...kept].join(' ')
}

/** dist/ fingerprints seen by the action runs: more than one means dist/ was rebuilt while the bench ran. */
const distBuilds = new Set<string>()

/**
 * Waits until both bundles exist and have not changed for 3 s (dist/ may be
 * rebuilt by `npm run package` at any time), and returns their fingerprint.
 */
async function stableDist(): Promise<string> {
  const deadline = Date.now() + 180_000
  for (;;) {
    try {
      const [main, post] = await Promise.all([stat(MAIN_ENTRY), stat(POST_ENTRY)])
      const newest = Math.max(main.mtimeMs, post.mtimeMs)
      if (Date.now() - newest > 3000) {
        const fingerprint = createHash('sha256')
          .update(readFileSync(MAIN_ENTRY))
          .update(readFileSync(POST_ENTRY))
          .digest('hex')
          .slice(0, 12)
        distBuilds.add(fingerprint)
        return fingerprint
      }
    } catch {
      // being rebuilt
    }
    if (Date.now() > deadline)
      throw new BenchError(
        'dist/index.js and dist/post/index.js did not settle within 3 minutes (run `npm run package`)'
      )
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

/** runOnFleet, once dist/ is there and settled. */
async function actionRun(fleet: Fleet, options: FleetRunOptions): Promise<ActionRun> {
  await stableDist()
  return runOnFleet(fleet, options)
}

/** The end of a run's log and stderr, for an error message. */
function tail(run: ActionRun): string {
  return `${run.main.stdout.slice(-1200)}\n${run.main.stderr.slice(-800)}`.trim()
}

function expectDeployed(run: ActionRun, nodes: string[], what: string): void {
  const got = statuses(run)
  const bad = nodes.filter(node => got[node] !== 'deployed')
  if (run.main.code !== 0 || bad.length > 0) {
    throw new BenchError(
      `${what}: exit ${run.main.code}, not deployed: ${bad.map(n => `${n}=${got[n] ?? 'missing'}`).join(', ') || 'none'}\n${tail(run)}`
    )
  }
}

const flakeChecks = (calls: { tool: string; argv: string[] }[]): number =>
  calls.filter(
    call => call.tool === 'nix' && call.argv.includes('flake') && call.argv.includes('check')
  ).length

/** Records a run that did not behave as expected: an ERROR row, and a non-zero exit at the end. */
function recordError(sectionName: string, scenario: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error)
  errors.push(`${sectionName} (${scenario}): ${message}`)
  rows.push({
    section: sectionName,
    scenario,
    value: '—',
    detail: message.split('\n')[0].slice(0, 160),
    goal: '—',
    verdict: 'ERROR'
  })
}

/** Runs a section; an unexpected outcome becomes an ERROR row, the other sections still run. */
async function section(name: string, body: () => Promise<void>): Promise<void> {
  if (only !== null && name !== only) return
  log(`${name}…`)
  const started = performance.now()
  try {
    await body()
  } catch (error) {
    recordError(name, 'run failed', error)
  } finally {
    log(`${name} done in ${seconds(performance.now() - started)}`)
  }
}

// ── 1. Throughput ─────────────────────────────────────────────────────────────
async function throughput(): Promise<void> {
  const names = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`)
  const fleet = await startFleet({ nodes: names.map(name => ({ name, hostCostMs: HOST_COST_MS })) })
  try {
    const { env, cleanup } = await freshEnv(fleet)
    const before = (await fleet.calls()).length
    const seed = await timed(
      [
        ...fleet.standInCommand,
        `--ssh-opts=${seedSshOpts(fleet, names[0])}`,
        '--targets',
        ...names.map(name => `${fleet.flakeDir}#${name}`)
      ],
      env
    )
    await cleanup()
    const seedChecks = flakeChecks((await fleet.calls()).slice(before))
    if (seed.code !== 0)
      throw new BenchError(`seed deploy exited ${seed.code ?? seed.signal}: ${seed.stderrTail}`)
    for (const name of names) {
      if (!(await fleet.hostLog(name)).some(line => line.startsWith('confirm')))
        throw new BenchError(`seed deploy did not confirm ${name}`)
    }
    rows.push({
      section: 'Throughput',
      scenario: `hand-written: ONE \`deploy --targets\` × ${names.length} nodes (checks per target)`,
      value: seconds(seed.ms),
      detail: `1.00× · ${seedChecks} flake checks`,
      goal: '—',
      verdict: '—'
    })

    for (const parallel of config.parallels) {
      try {
        const callsBefore = (await fleet.calls()).length
        const run = await actionRun(fleet, {
          inputs: { targets: 'all', parallel: String(parallel) },
          timeoutMs: RUN_TIMEOUT_MS
        })
        expectDeployed(run, names, `parallel ${parallel}`)
        const checks = flakeChecks((await fleet.calls()).slice(callsBefore))
        const speedup = seed.ms / run.main.durationMs
        const isGoal = parallel === 8
        rows.push({
          section: 'Throughput',
          scenario: `action, parallel ${parallel} (health-check auto)`,
          value: seconds(run.main.durationMs),
          detail: `${ratio(speedup)} vs hand-written · ${checks} flake check${checks === 1 ? '' : 's'}`,
          goal: isGoal ? '≥ 6× vs hand-written (ideal 8×)' : '—',
          verdict: isGoal ? verdict(speedup >= 6) : '—'
        })
      } catch (error) {
        recordError('Throughput', `action, parallel ${parallel}`, error)
      }
    }
  } finally {
    await fleet.stop()
    await removeRunDirs()
  }
}

// ── 6. Health checks ──────────────────────────────────────────────────────────
const HEALTH_NODES = 8
const HEALTH_REPEATS = 3

/**
 * The loop a user would write instead of the action: every node's deploy
 * in the background, then `wait`. A shell is what that user runs; the node
 * names are arguments, never part of the script.
 */
function bareLoopArgv(names: string[]): string[] {
  const script = `for n in "$@"; do deploy --skip-checks --ssh-opts="$SSH_OPTS" "$FLAKE#$n" & done; wait`
  return ['sh', '-c', script, 'bare-loop', ...names]
}

async function healthChecks(): Promise<void> {
  const names = Array.from({ length: HEALTH_NODES }, (_, i) => `h${i + 1}`)
  const fleet = await startFleet({ nodes: names.map(name => ({ name, hostCostMs: HOST_COST_MS })) })
  const bare: number[] = []
  const off: number[] = []
  const on: number[] = []
  try {
    const confirms = async (): Promise<number[]> =>
      Promise.all(
        names.map(
          async name =>
            (await fleet.hostLog(name)).filter(line => line.startsWith('confirm')).length
        )
      )
    const action = async (healthCheck: string): Promise<number> => {
      const run = await actionRun(fleet, {
        inputs: {
          targets: 'all',
          parallel: String(HEALTH_NODES),
          'skip-checks': 'true',
          'health-check': healthCheck
        },
        timeoutMs: RUN_TIMEOUT_MS
      })
      expectDeployed(run, names, `health-check ${healthCheck}`)
      const checked = run.results.filter(r => r.health !== null).length
      if (checked !== (healthCheck === 'false' ? 0 : names.length))
        throw new BenchError(`health-check ${healthCheck}: ${checked} nodes checked`)
      return run.main.durationMs
    }
    // Alternated, so that machine noise hits all three alike.
    for (let i = 0; i < HEALTH_REPEATS; i++) {
      const { env, cleanup } = await freshEnv(fleet)
      const before = await confirms()
      const loop = await timed(bareLoopArgv(names), {
        ...env,
        SSH_OPTS: seedSshOpts(fleet, names[0]),
        FLAKE: fleet.flakeDir
      })
      await cleanup()
      const after = await confirms()
      if (loop.code !== 0 || after.some((count, n) => count !== before[n] + 1))
        throw new BenchError(
          `bare loop: exit ${loop.code}, not every node confirmed: ${loop.stderrTail}`
        )
      bare.push(loop.ms)
      off.push(await action('false'))
      on.push(await action('auto'))
    }
  } finally {
    await fleet.stop()
    await removeRunDirs()
  }
  const [loopMs, offMs, onMs] = [median(bare), median(off), median(on)]
  const scenario = (what: string): string =>
    `${HEALTH_NODES} nodes, parallel ${HEALTH_NODES}, skip-checks, median of ${HEALTH_REPEATS}: ${what}`
  rows.push({
    section: 'Health',
    scenario: scenario('bare loop `deploy --skip-checks .#node &` … `wait`'),
    value: seconds(loopMs),
    detail: `1.00× · runs ${bare.map(seconds).join(', ')}`,
    goal: '—',
    verdict: '—'
  })
  rows.push({
    section: 'Health',
    scenario: scenario('action, health-check false'),
    value: seconds(offMs),
    detail: `${ratio(offMs / loopMs)} vs the bare loop (the action's whole overhead) · runs ${off.map(seconds).join(', ')}`,
    goal: '≤ 1.15× vs the bare loop',
    verdict: verdict(offMs / loopMs <= 1.15)
  })
  rows.push({
    section: 'Health',
    scenario: scenario('action, health-check auto (systemd check)'),
    value: seconds(onMs),
    detail: `${ratio(onMs / loopMs)} vs the bare loop · the check costs +${seconds(onMs - offMs)} (one ssh round trip before and one after each node) · runs ${on.map(seconds).join(', ')}`,
    goal: '—',
    verdict: '—'
  })
}

// ── 2. Overhead ───────────────────────────────────────────────────────────────
async function overhead(fleet: Fleet): Promise<void> {
  const node = 'solo'
  const bare: number[] = []
  const action: number[] = []
  const post: number[] = []
  for (let i = 0; i < config.overheadRepeats; i++) {
    const { env, cleanup } = await freshEnv(fleet)
    const call = await timed(bareDeployArgv(fleet, node), env)
    await cleanup()
    if (call.code !== 0)
      throw new BenchError(`bare stand-in exited ${call.code ?? call.signal}: ${call.stderrTail}`)
    bare.push(call.ms)
    const run = await actionRun(fleet, {
      inputs: { targets: node, 'skip-checks': 'true' },
      timeoutMs: RUN_TIMEOUT_MS
    })
    expectDeployed(run, [node], 'overhead run')
    action.push(run.main.durationMs)
    post.push(run.post?.durationMs ?? 0)
  }
  await removeRunDirs()
  const diffs = action.map((ms, i) => ms - bare[i])
  const diff = median(diffs)
  rows.push({
    section: 'Overhead',
    scenario: `1 node, hostCostMs 0, median of ${config.overheadRepeats}: bare \`deploy --skip-checks\``,
    value: seconds(median(bare)),
    detail: `runs: ${bare.map(ms => (ms / 1000).toFixed(2)).join(' / ')}`,
    goal: '—',
    verdict: '—'
  })
  rows.push({
    section: 'Overhead',
    scenario: 'same node through the action (skip-checks: true), main step',
    value: seconds(median(action)),
    detail: `overhead +${seconds(diff)} (median of the paired differences) · post step ${seconds(median(post))}`,
    goal: '< 1 s',
    verdict: verdict(diff < 1000)
  })
}

// ── 6. Packages ───────────────────────────────────────────────────────────────
/** Paths per closure in the big case: a NixOS system has 5,000 to 20,000. */
const BIG_CLOSURE = 5000

/**
 * What the packages diff costs: the same dry run on a node whose generations
 * hold a few paths (the fleet's default) and on one whose two closures hold
 * BIG_CLOSURE paths each (every tenth package upgraded), alternated.
 */
async function packages(): Promise<void> {
  const fleet = await startFleet({
    nodes: [
      { name: 'small' },
      {
        name: 'big',
        generations: {
          current: largeGenerationContents(BIG_CLOSURE, 1),
          next: largeGenerationContents(BIG_CLOSURE, 2)
        }
      }
    ]
  })
  const times: Record<string, number[]> = { small: [], big: [] }
  try {
    for (let i = 0; i < config.overheadRepeats; i++) {
      for (const node of ['small', 'big']) {
        const run = await actionRun(fleet, {
          inputs: { targets: node, 'skip-checks': 'true', 'dry-run': 'true' },
          timeoutMs: RUN_TIMEOUT_MS
        })
        const result = run.results[0] as { status?: string; packages?: { upgraded: unknown[] } }
        const expected = node === 'big' ? BIG_CLOSURE / 10 : 0
        if (run.main.code !== 0 || result?.packages?.upgraded.length !== expected) {
          throw new BenchError(
            `${node}: exit ${run.main.code}, status ${result?.status}, upgraded ${result?.packages?.upgraded.length ?? 'unknown'} (expected ${expected})\n${tail(run)}`
          )
        }
        times[node]!.push(run.main.durationMs)
      }
    }
  } finally {
    await fleet.stop()
    await removeRunDirs()
  }
  const small = median(times.small!)
  const big = median(times.big!)
  rows.push({
    section: 'Packages',
    scenario: `dry run of 1 node, closures of a few paths, median of ${config.overheadRepeats}`,
    value: seconds(small),
    detail: `runs: ${times.small!.map(ms => (ms / 1000).toFixed(2)).join(' / ')}`,
    goal: '—',
    verdict: '—'
  })
  rows.push({
    section: 'Packages',
    scenario: `same, two ${BIG_CLOSURE.toLocaleString('en')}-path closures (${BIG_CLOSURE / 10} upgrades)`,
    value: seconds(big),
    detail: `+${seconds(big - small)} for listing both closures with sizes on the host and diffing them · runs: ${times.big!.map(ms => (ms / 1000).toFixed(2)).join(' / ')}`,
    goal: '< +2 s',
    verdict: verdict(big - small < 2000)
  })
}

// ── 3. Unreachable hosts ──────────────────────────────────────────────────────
async function blackholes(): Promise<void> {
  const healthy = Array.from({ length: config.healthy }, (_, i) => `h${i + 1}`)
  const holes = Array.from({ length: config.blackholes }, (_, i) => `b${i + 1}`)
  const specs: FleetNodeSpec[] = [
    ...healthy.map(name => ({ name })),
    ...holes.map(name => ({ name, kind: 'blackhole' as const }))
  ]
  const fleet = await startFleet({ nodes: specs })
  try {
    const inputs = { 'keyscan-timeout': String(KEYSCAN_TIMEOUT_S), parallel: '8' }
    const good = await actionRun(fleet, {
      inputs: { ...inputs, targets: healthy.join(',') },
      timeoutMs: RUN_TIMEOUT_MS
    })
    expectDeployed(good, healthy, `${healthy.length} healthy nodes`)
    const mixed = await actionRun(fleet, {
      inputs: { ...inputs, targets: [...healthy, ...holes].join(',') },
      timeoutMs: RUN_TIMEOUT_MS
    })
    const got = statuses(mixed)
    const wrong = [
      ...healthy.filter(n => got[n] !== 'deployed'),
      ...holes.filter(n => got[n] !== 'unreachable')
    ]
    if (mixed.main.code !== 1 || wrong.length > 0) {
      throw new BenchError(
        `mixed run: exit ${mixed.main.code}, unexpected statuses: ${wrong.map(n => `${n}=${got[n]}`).join(', ')}\n${tail(mixed)}`
      )
    }
    const diff = mixed.main.durationMs - good.main.durationMs
    const oneHostWorstS = KEYSCAN_TRIES * KEYSCAN_TIMEOUT_S
    const limitS = oneHostWorstS + 1
    rows.push({
      section: 'Unreachable',
      scenario: `${healthy.length} healthy nodes (parallel 8, keyscan-timeout ${KEYSCAN_TIMEOUT_S})`,
      value: seconds(good.main.durationMs),
      detail: 'all deployed',
      goal: '—',
      verdict: '—'
    })
    rows.push({
      section: 'Unreachable',
      scenario: `same + ${holes.length} black holes (${healthy.length + holes.length} nodes)`,
      value: seconds(mixed.main.durationMs),
      detail: `+${seconds(diff)}; ${holes.length} unreachable (one host's scans: ${KEYSCAN_TRIES} tries × ${KEYSCAN_TIMEOUT_S} s = ${oneHostWorstS} s; one after another ≈ ${holes.length * oneHostWorstS} s)`,
      goal: `+ ≤ ${limitS} s`,
      verdict: verdict(diff <= limitS * 1000)
    })
  } finally {
    await fleet.stop()
    await removeRunDirs()
  }
}

// ── 4. Memory under a log flood ───────────────────────────────────────────────
function readHwmBytes(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

async function flood(): Promise<void> {
  const node = 'flood'
  const fleet = await startFleet({
    nodes: [{ name: node, behaviour: 'flood', floodBytes: config.floodBytes }]
  })
  try {
    // The stand-in alone, its output drained here: how fast the source can go.
    const { env, cleanup } = await freshEnv(fleet)
    const bare = await timed(bareDeployArgv(fleet, node), env)
    await cleanup()
    if (bare.code !== 0)
      throw new BenchError(`bare flood run exited ${bare.code ?? bare.signal}: ${bare.stderrTail}`)

    let peak = 0
    let timer: NodeJS.Timeout | undefined
    const run = await actionRun(fleet, {
      inputs: { targets: node, 'skip-checks': 'true' },
      timeoutMs: RUN_TIMEOUT_MS,
      onStart: pid => {
        const sample = (): void => {
          const hwm = readHwmBytes(pid)
          if (hwm !== null) peak = Math.max(peak, hwm)
        }
        sample()
        timer = setInterval(sample, 10)
      }
    })
    clearInterval(timer)
    expectDeployed(run, [node], 'flood run')
    if (peak === 0) throw new BenchError('could not read VmHWM of the main step')
    const nodeMs = Number(run.results[0]?.durationMs ?? run.main.durationMs)
    const label = `${config.floodBytes / MiB} MiB`
    rows.push({
      section: 'Memory',
      scenario: `peak RSS (VmHWM) of the main step, 1 node printing ${label}`,
      value: mb(peak),
      detail: `log through the action ${mb((config.floodBytes / nodeMs) * 1000)}/s (node ${seconds(nodeMs)}, main step ${seconds(run.main.durationMs)}); stand-in alone ${mb(((bare.stdoutBytes + bare.stderrBytes) / bare.ms) * 1000)}/s; job log ${mb(Buffer.byteLength(run.main.stdout))}`,
      goal: '< 150 MB',
      verdict: verdict(peak < 150e6)
    })
  } finally {
    await fleet.stop()
    await removeRunDirs()
  }
}

// ── 5. Cold start and bundle size ─────────────────────────────────────────────
/** Spawn to the first complete stdout line. */
function firstLine(
  argv: string[],
  env: NodeJS.ProcessEnv
): Promise<{ ms: number; line: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'ignore'] })
    let text = ''
    let ms = -1
    let line = ''
    child.stdout.on('data', (chunk: Buffer) => {
      if (ms >= 0) return
      text += chunk.toString('utf8')
      const end = text.indexOf('\n')
      if (end >= 0) {
        ms = performance.now() - started
        line = text.slice(0, end)
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ ms, line, code })
    })
  })
}

async function coldStart(fleet: Fleet): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dra-bench-cold-'))
  try {
    const files = ['output', 'summary', 'state'].map(name => join(dir, name))
    const event = join(dir, 'event.json')
    await Promise.all([...files.map(file => writeFile(file, '')), writeFile(event, '{}')])
    const env: NodeJS.ProcessEnv = {
      PATH: `${fleet.binDir}:${process.env.PATH}`,
      ...fleet.env,
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      RUNNER_TEMP: dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: files[0],
      GITHUB_STEP_SUMMARY: files[1],
      GITHUB_STATE: files[2],
      GITHUB_EVENT_PATH: event,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'octo/homelab',
      INPUT_FLAKE: fleet.flakeDir,
      INPUT_TARGETS: 'all',
      'INPUT_PLAN-ONLY': 'true'
    }
    const action: number[] = []
    const bareNode: number[] = []
    let line = ''
    for (let i = 0; i < config.coldRepeats; i++) {
      await stableDist()
      const run = await firstLine([process.execPath, MAIN_ENTRY], env)
      if (run.ms < 0 || run.code !== 0)
        throw new BenchError(
          `plan-only run: exit ${run.code}, first line ${JSON.stringify(run.line)}`
        )
      action.push(run.ms)
      line = run.line.split(fleet.flakeDir).join('FLAKE')
      const plain = await firstLine([process.execPath, '-e', 'console.log("ready")'], env)
      bareNode.push(plain.ms)
    }
    rows.push({
      section: 'Startup',
      scenario: `\`node dist/index.js\` (plan-only) spawn → first log line, median of ${config.coldRepeats}`,
      value: seconds(median(action)),
      detail: `\`node -e\` alone ${seconds(median(bareNode))}; first line: “${line.trim()}”`,
      goal: '—',
      verdict: '—'
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  const [main, post] = await Promise.all([stat(MAIN_ENTRY), stat(POST_ENTRY)])
  rows.push({
    section: 'Startup',
    scenario: 'bundle size: dist/index.js · dist/post/index.js',
    value: `${(main.size / 1024).toFixed(0)} KiB`,
    detail: `dist/post/index.js ${(post.size / 1024).toFixed(0)} KiB`,
    goal: '—',
    verdict: '—'
  })
}

// ── table ─────────────────────────────────────────────────────────────────────
function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

function renderMarkdown(rowsToRender: Row[]): string {
  const lines = [
    '| Section | Scenario | Measured | Detail | Goal | Result |',
    '|---|---|---|---|---|---|'
  ]
  for (const r of rowsToRender) {
    lines.push(
      `| ${[r.section, r.scenario, r.value, r.detail, r.goal, r.verdict].map(markdownCell).join(' | ')} |`
    )
  }
  return lines.join('\n')
}

function renderText(rowsToRender: Row[]): string {
  const header = ['Section', 'Scenario', 'Measured', 'Goal', 'Result']
  const cells = (r: Row): string[] => [r.section, r.scenario, r.value, r.goal, r.verdict]
  const width = (text: string): number => [...text].length
  const widths = header.map((h, i) =>
    Math.max(width(h), ...rowsToRender.map(r => width(cells(r)[i])))
  )
  const line = (values: string[]): string =>
    values
      .map((c, i) => c + ' '.repeat(Math.max(0, widths[i] - width(c))))
      .join('  ')
      .trimEnd()
  const out = [line(header), widths.map(w => '─'.repeat(w)).join('  ')]
  for (const r of rowsToRender) {
    out.push(line(cells(r)))
    out.push(`${' '.repeat(widths[0] + 2)}↳ ${r.detail}`)
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const started = performance.now()
  const load = loadavg()
    .map(x => x.toFixed(2))
    .join(' ')
  log(`${quick ? 'quick' : 'full'} run; load average at start ${load}`)

  await section('Throughput', throughput)
  const small = await startFleet({ nodes: [{ name: 'solo' }] })
  try {
    await section('Overhead', () => overhead(small))
    await section('Startup', () => coldStart(small))
  } finally {
    await small.stop()
    await removeRunDirs()
  }
  await section('Unreachable', blackholes)
  await section('Memory', flood)
  await section('Health', healthChecks)
  await section('Packages', packages)

  const order = ['Throughput', 'Overhead', 'Health', 'Unreachable', 'Memory', 'Startup', 'Packages']
  const sorted = order.flatMap(name => rows.filter(r => r.section === name))
  const total = performance.now() - started
  console.log('')
  console.log(renderText(sorted))
  console.log('')
  console.log(
    `Total bench time ${seconds(total)}; ${cpus().length} cores; load average at start ${load}, at end ${loadavg()
      .map(x => x.toFixed(2))
      .join(' ')}.`
  )
  const distNote =
    distBuilds.size > 1
      ? `WARNING: dist/ was rebuilt while the bench ran (${distBuilds.size} builds: ${[...distBuilds].join(', ')}); the figures mix builds.`
      : `dist/ build ${[...distBuilds].join(', ') || 'unknown'} (sha256 of both bundles, first 12 hex digits).`
  console.log(distNote)
  for (const error of errors) console.log(`ERROR ${error}`)

  if (writeDoc) {
    const nodeVersion = process.version
    const doc = [
      '# Benchmark',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- ${args.join(' ')}\` (scripts/bench.ts), in one run so machine noise hits every figure alike.`,
      '',
      `- Node ${nodeVersion}, \`nproc\` ${cpus().length}, load average at start ${load}, at end ${loadavg()
        .map(x => x.toFixed(2))
        .join(' ')}`,
      `- Total bench time ${seconds(total)}; ${distNote}`,
      `- Commit ${gitHead()} (plus whatever the working tree held), machine shared with other work: load averages show how quiet it was.`,
      "- The hosts are the sandbox fleet (real sshd on 127.0.0.x, the deploy-rs stand-in, real `nix flake check` / `nix eval` of the fixture flake). The one `deploy --targets` call reaches every node with `--ssh-opts=-F FLEET_SSH_CONFIG` plus the strict options, key and known_hosts of `fleet.sshOptsFor` (one call cannot take one node's `-p`: deploy-rs `--ssh-opts` replaces every node's own `sshOpts`, so the ports come from the fleet's ssh config).",
      '',
      renderMarkdown(sorted),
      '',
      '## What each line measures',
      '',
      `- **Throughput**: ${config.nodes} nodes, each spending ${HOST_COST_MS / 1000} s on the host per push and per activation (≈ ${(2 * HOST_COST_MS) / 1000} s per node). A hand-written workflow makes ONE deploy-rs call for every node: \`deploy --targets FLAKE#n1 … --ssh-opts=…\`, without \`--skip-checks\`, so deploy-rs runs \`nix flake check\` once per target and activates the nodes one after another. The action (dist/index.js, run as the runner runs it) makes one deploy-rs call per node, \`parallel\` at once, after one \`nix flake check\`. Times are the main step's wall time, spawn to exit. The ratio is that call's time ÷ action time.`,
      '- **Overhead**: the same node (no host cost) through the action with `skip-checks: true` vs the bare stand-in call `deploy --skip-checks --ssh-opts=… FLAKE#solo`, alternated; the overhead is the median of the paired differences (input parsing, `nix eval` of the inventory, ssh-keyscan, workspace, report).',
      `- **Unreachable**: black-hole hosts accept TCP and never answer, so every ssh-keyscan try waits the full keyscan-timeout (${KEYSCAN_TIMEOUT_S} s). The action scans all hosts at once, each with ${KEYSCAN_TRIES} tries (the back-off between tries is skipped after a try that used its whole timeout), so the black holes should cost about one host's scans (${KEYSCAN_TRIES * KEYSCAN_TIMEOUT_S} s), not one per black hole.`,
      `- **Memory**: VmHWM of the main step's node process (/proc/PID/status, sampled every 10 ms), while the node's host prints ${config.floodBytes / MiB} MiB of log lines during activation. Throughput = bytes ÷ the node's duration in the results output.`,
      '- **Startup**: `node dist/index.js` with `plan-only: true`, from spawn to the first stdout line, beside a bare `node -e` for scale.',
      `- **Health**: ${HEALTH_NODES} nodes (${HOST_COST_MS / 1000} s on the host per push and per activation), all at once: the loop a user would write instead of the action (\`for n in …; do deploy --skip-checks --ssh-opts=… FLAKE#$n & done; wait\`, the same stand-in in the same run), then the action with \`skip-checks: true\` and \`parallel: ${HEALTH_NODES}\`, without and with the systemd health check (the sandbox hosts' systemctl stand-in answers at once). Alternated, medians of ${HEALTH_REPEATS}. The first ratio is the action's whole overhead; the difference of the last two is what the check costs.`,
      `- **Packages**: the same one-node dry run (skip-checks) on a node whose current and new generations are a few store paths, and on one whose two closures hold ${BIG_CLOSURE.toLocaleString('en')} paths each (real store paths, test-support/fleet closures.ts), alternated. The difference is what the packages stages cost: the host lists both closures with NAR sizes (\`nix path-info --recursive --size\`, one ssh session), the action diffs them.`,
      ''
    ].join('\n')
    await mkdir(join(PROJECT_ROOT, 'docs'), { recursive: true })
    const target = join(PROJECT_ROOT, 'docs', 'benchmark.md')
    const style = (await prettier.resolveConfig(target)) ?? {}
    await writeFile(target, await prettier.format(doc, { ...style, filepath: target }))
    log('wrote docs/benchmark.md')
  }
  process.exitCode = errors.length > 0 ? 1 : 0
}

await main()
