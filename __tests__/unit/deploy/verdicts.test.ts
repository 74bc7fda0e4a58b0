/** Verdicts that match what happened on the host (issue 8): parser details, profile-aware dry runs. */
import { describe, expect, it } from '@jest/globals'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { classifyRun } from '../../../src/deploy/classify.js'
import type { Launcher } from '../../../src/commands/process.js'
import { DeployLogParser, swapUnitName } from '../../../src/deploy/log-parser.js'
import { runDeploys } from '../../../src/deploy/runner.js'
import type { PlannedNode } from '../../../src/plan/targets.js'

const ESC = '\u001b'
const deploy = (level: 'INFO' | 'ERROR', message: string): string =>
  `🚀 ${level === 'ERROR' ? '❌' : 'ℹ️'} [deploy] [${ESC}[38;5;${level === 'ERROR' ? 196 : 51}m${level}${ESC}[0m] ${message}`
const activate = (level: 'INFO' | 'WARN', message: string): string =>
  `⭐ ${level === 'WARN' ? '⚠️' : 'ℹ️'} [activate] [${ESC}[38;5;${level === 'WARN' ? 208 : 51}m${level}${ESC}[0m] ${message}`

const COPY = [
  deploy('INFO', 'Copying profile `system` to node `web`'),
  "copying path '/nix/store/abc-nixos-system' to 'ssh://runner@10.0.0.5'..."
]

function parse(lines: string[]): DeployLogParser {
  const parser = new DeployLogParser()
  for (const line of lines) parser.push(line, 'stderr')
  return parser
}

function dryRun(lines: string[], profiles: string[], exitCode = 0) {
  return classifyRun({
    parser: parse(lines),
    exitCode,
    signal: null,
    dryRun: true,
    timedOut: false,
    cancelled: false,
    node: 'web',
    profiles
  })
}

describe('log parser: lines it did not know', () => {
  it.each([
    ['/dev/vdb2', 'dev-vdb2.swap'],
    ['/dev/disk/by-label/my-swap', 'dev-disk-by\\x2dlabel-my\\x2dswap.swap'],
    ['/swapfile', 'swapfile.swap'],
    ['/var/lib/swap file', 'var-lib-swap\\x20file.swap']
  ])('`would stop swap device: %s` stops the swap unit %s', (device, unit) => {
    expect(swapUnitName(device)).toBe(unit)
    const summary = parse([`would stop swap device: ${device}`]).summary()
    expect(summary.changes.stop).toEqual([unit])
    expect(summary.sawChanges).toBe(true)
  })

  it("a [wait] timeout after deploy-rs gave up does not replace activate-rs's error", () => {
    const summary = parse([
      activate('INFO', 'Activating profile'),
      `⭐ ❌ [activate] [${ESC}[38;5;196mERROR${ESC}[0m] The activation script resulted in a bad exit code: Some(4)`,
      `👀 ❌ [wait] [${ESC}[38;5;196mERROR${ESC}[0m] Error waiting for activation: Timeout elapsed for confirmation`
    ]).summary()
    expect(summary.remoteError?.message).toBe(
      'The activation script resulted in a bad exit code: Some(4)'
    )
  })

  it("recognises nix's `failed to start SSH master connection to` as an ssh failure", () => {
    const summary = parse([
      ...COPY,
      `${ESC}[31;1merror:${ESC}[0m failed to start SSH master connection to 'runner@10.0.0.5'`
    ]).summary()
    expect(summary.sshFailure).toMatchObject({ stage: 'push', kind: 'other' })
  })

  it.each(['This is not a NixOS installation!', 'Could not acquire lock', 'Could not open lock'])(
    'records the refusal %s as a dry failure',
    line => {
      expect(parse([...COPY, line]).summary().dryFailure).toBe(line)
    }
  )

  it('records each dry activation: whether it got past its checks, and its last lines', () => {
    const summary = parse([
      ...COPY,
      'would activate the configuration...',
      deploy('INFO', 'Completed dry-activate!'),
      '/nix/store/b7l2-activate',
      deploy('INFO', 'Completed dry-activate!')
    ]).summary()
    expect(summary.dryActivations).toEqual([
      { wouldActivate: true, lines: ['would activate the configuration...'] },
      { wouldActivate: false, lines: ['/nix/store/b7l2-activate'] }
    ])
    expect(summary.sawWouldActivate).toBe(true)
  })

  it.each([
    'De-activating due to error',
    'Removing generation by ID 43',
    'Attempting to re-activate the last generation'
  ])('takes activate-rs %s as host-side rollback evidence', message => {
    expect(parse([activate('WARN', message)]).summary().rollback).toMatchObject({
      source: 'activate'
    })
  })

  it.each([
    [
      [
        "thread 'tokio-runtime-worker' panicked at /build/source/src/deploy.rs:488:41:",
        'called `Result::unwrap()` on an `Err` value: SSHActivateExit(Some(255))',
        "thread 'main' panicked at /build/source/src/deploy.rs:523:30:",
        'called `Result::unwrap()` on an `Err` value: RecvError(())'
      ],
      'called `Result::unwrap()` on an `Err` value: SSHActivateExit(Some(255))'
    ],
    [
      ["thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/cli.rs:9:5"],
      "'called `Option::unwrap()` on a `None` value', src/cli.rs:9:5"
    ]
  ])("keeps deploy-rs's first panic message (%#)", (lines, message) => {
    expect(parse(lines).summary().panic).toBe(message)
  })

  it('knows when an activation is left waiting for its confirmation', () => {
    const parser = parse([
      deploy('INFO', 'Activating profile `system` for node `web`'),
      activate('INFO', 'Magic rollback is enabled, setting up confirmation hook...')
    ])
    expect(parser.summary().awaitingConfirmation).toBe(true)
    parser.push(deploy('INFO', 'Success activating, attempting to confirm activation'))
    expect(parser.summary().awaitingConfirmation).toBe(true)
    parser.push(deploy('INFO', 'Deployment confirmed.'))
    expect(parser.summary().awaitingConfirmation).toBe(false)
    parser.push(deploy('INFO', 'Activating profile `app` for node `web`'))
    expect(parser.summary().awaitingConfirmation).toBe(false)
  })

  it('knows whether the host printed anything since the last stage line', () => {
    const before = parse([deploy('INFO', 'Activating profile `system` for node `web`')])
    expect(before.summary().hostOutputInStage).toBe(false)
    before.push(activate('INFO', 'Activating profile'))
    expect(before.summary().hostOutputInStage).toBe(true)
  })
})

describe('dry runs depend on the profiles deployed', () => {
  const refused = [...COPY, 'something unexpected', deploy('INFO', 'Completed dry-activate!')]
  const passed = [
    ...COPY,
    'would activate the configuration...',
    'would restart the following units: nginx.service',
    deploy('INFO', 'Completed dry-activate!')
  ]

  it('a system profile without `would activate the configuration...` failed, quoting its lines', () => {
    const outcome = dryRun(refused, ['system'])
    expect(outcome).toMatchObject({ status: 'failed', stage: 'activate', changes: null })
    expect(outcome.error).toContain('something unexpected')
    expect(outcome.error).not.toContain('copying path')
  })

  it('a system profile that printed nothing at all failed too', () => {
    const outcome = dryRun([...COPY, deploy('INFO', 'Completed dry-activate!')], ['system'])
    expect(outcome).toMatchObject({ status: 'failed', stage: 'activate' })
    expect(outcome.error).toContain('printed nothing')
  })

  it('other profiles: dry-run, with changes null (unknown), never empty lists', () => {
    expect(dryRun(refused, ['home'])).toEqual({
      status: 'dry-run',
      stage: null,
      error: null,
      changes: null
    })
  })

  it('a node with system and another profile: the system one must get through', () => {
    expect(dryRun(passed, ['system', 'home'])).toMatchObject({
      status: 'dry-run',
      changes: { restart: ['nginx.service'] }
    })
    expect(dryRun(refused, ['home', 'system'])).toMatchObject({ status: 'failed' })
  })
})

describe('runner passes the node profiles to the classifier', () => {
  const silentDryRun: Launcher = () => {
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    stderr.end(`${deploy('INFO', 'Completed dry-activate!')}\n`)
    stdout.end()
    return {
      pid: 1,
      stdout,
      stderr,
      exited: new Promise(resolve =>
        setTimeout(() => resolve({ code: 0, signal: null, startError: null }), 20)
      ),
      killGroup: () => undefined
    }
  }
  const node = (name: string, profiles: string[]): PlannedNode => ({
    name,
    hostname: `${name}.lan`,
    sshUser: null,
    sshOpts: [],
    profiles,
    port: 22,
    targetProfiles: profiles,
    wholeNode: true
  })

  it('a silent dry run fails a system node and leaves a home-only node unknown', async () => {
    const reports = await runDeploys(
      [
        { node: node('sys', ['system']), argv: ['deploy', 'sys'] },
        { node: node('hm', ['home']), argv: ['deploy', 'hm'] }
      ],
      {
        parallel: 1,
        failFast: false,
        hostTimeoutMs: 10_000,
        dryRun: true,
        logsDir: await mkdtemp(join(tmpdir(), 'verdicts-test-')),
        env: {},
        launch: silentDryRun,
        abortSignal: new AbortController().signal,
        echo: () => undefined
      }
    )
    expect(reports.map(r => [r.result.node, r.result.status, r.result.changes])).toEqual([
      ['sys', 'failed', null],
      ['hm', 'dry-run', null]
    ])
  })
})
