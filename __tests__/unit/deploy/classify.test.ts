import { describe, it, expect } from '@jest/globals'
import {
  classifyRun,
  errorLine,
  stageOfMessage,
  type ClassifyInput
} from '../../../src/deploy/classify.js'
import { DeployLogParser } from '../../../src/deploy/log-parser.js'

const ESC = '\u001b'
const deploy = (level: 'INFO' | 'ERROR', message: string): string =>
  `🚀 ${level === 'ERROR' ? '❌' : 'ℹ️'} [deploy] [${ESC}[38;5;${level === 'ERROR' ? 196 : 51}m${level}${ESC}[0m] ${message}`
const activate = (level: 'INFO' | 'WARN' | 'ERROR', message: string): string =>
  `⭐ ℹ️ [activate] [${level}] ${message}`

const PUSH = [
  deploy('INFO', 'Evaluating flake in .'),
  deploy('INFO', 'Building profile `system` for node `web`'),
  deploy('INFO', 'Copying profile `system` to node `web`')
]
const ACTIVATE = [...PUSH, deploy('INFO', 'Activating profile `system` for node `web`')]

function classify(lines: string[], overrides: Partial<Omit<ClassifyInput, 'parser'>> = {}) {
  const parser = new DeployLogParser()
  for (const line of lines) parser.push(line)
  return classifyRun({
    parser,
    exitCode: 1,
    signal: null,
    dryRun: false,
    timedOut: false,
    cancelled: false,
    node: 'web',
    profiles: ['system'],
    ...overrides
  })
}

describe('classifyRun', () => {
  it('accepts a parser summary as well as the parser', () => {
    const parser = new DeployLogParser()
    parser.push(deploy('INFO', 'Deployment confirmed.'))
    const input = {
      exitCode: 0,
      signal: null,
      dryRun: false,
      timedOut: false,
      cancelled: false,
      node: 'web',
      profiles: ['system']
    }
    expect(classifyRun({ ...input, parser: parser.summary() })).toEqual(
      classifyRun({ ...input, parser })
    )
  })

  it('exit 0 without any line is deployed (exit 0 is the success signal)', () => {
    expect(classify([], { exitCode: 0 })).toEqual({
      status: 'deployed',
      stage: null,
      error: null,
      changes: null
    })
  })

  it('a dry run that succeeded reports its changes, empty when nothing would change', () => {
    expect(
      classify(
        [...PUSH, 'would activate the configuration...', deploy('INFO', 'Completed dry-activate!')],
        { exitCode: 0, dryRun: true }
      )
    ).toEqual({
      status: 'dry-run',
      stage: null,
      error: null,
      changes: { stop: [], restart: [], start: [], reload: [], restartSystemd: false }
    })
  })

  it('timed out: reports the stage reached', () => {
    const outcome = classify(
      [...ACTIVATE, activate('INFO', 'Magic rollback is enabled, setting up confirmation hook...')],
      { exitCode: null, signal: 'SIGTERM', timedOut: true, timeoutMs: 30 * 60_000 }
    )
    expect(outcome).toMatchObject({ status: 'timed-out', stage: 'confirm' })
    expect(outcome.error).toBe('deploy-rs did not finish within 30 min (stopped during confirm)')
  })

  it('timed out before any line: stage null', () => {
    expect(classify([], { exitCode: null, signal: 'SIGKILL', timedOut: true })).toMatchObject({
      status: 'timed-out',
      stage: null
    })
  })

  it('cancelled wins over everything else', () => {
    const outcome = classify([...PUSH], {
      exitCode: null,
      signal: 'SIGTERM',
      cancelled: true,
      timedOut: true
    })
    expect(outcome).toMatchObject({ status: 'cancelled', stage: 'push' })
    expect(outcome.error).toContain('cancelled')
  })

  it('killed by a signal it was not sent by the action', () => {
    expect(classify([...PUSH], { exitCode: null, signal: 'SIGKILL' })).toEqual({
      status: 'failed',
      stage: 'push',
      error: 'deploy-rs was killed by SIGKILL',
      changes: null
    })
  })

  it('could not be started at all', () => {
    expect(
      classify([], { exitCode: null, startError: 'could not start deploy: spawn deploy ENOENT' })
    ).toMatchObject({
      status: 'failed',
      stage: null,
      error: 'could not start deploy: spawn deploy ENOENT'
    })
  })

  it('exit 2: deploy-rs rejected its arguments, quoting clap', () => {
    const outcome = classify(
      ["error: unexpected argument '--frobnicate' found", '', 'Usage: deploy [OPTIONS] [TARGET]'],
      { exitCode: 2 }
    )
    expect(outcome).toEqual({
      status: 'failed',
      stage: null,
      error: "deploy-rs rejected its arguments: error: unexpected argument '--frobnicate' found",
      changes: null
    })
  })

  it('other exit codes without any message', () => {
    expect(classify([...PUSH], { exitCode: 3 })).toMatchObject({
      status: 'failed',
      stage: 'push',
      error: 'deploy-rs exited with code 3'
    })
  })

  it("deploy-rs's rolled-back message alone is a failure, not a rollback (even with exit 0)", () => {
    const outcome = classify(
      [
        ...ACTIVATE,
        deploy('ERROR', 'Deployment to node web failed, rolled back to previous generation')
      ],
      { exitCode: 0 }
    )
    expect(outcome).toMatchObject({ status: 'failed', stage: 'activate' })
    expect(outcome.error).toBe(
      'Deployment to node web failed, rolled back to previous generation (deploy-rs still exited 0)'
    )
  })

  it('a rollback that failed leaves the node failed', () => {
    const outcome = classify([
      ...ACTIVATE,
      activate('WARN', 'De-activating due to error'),
      activate(
        'ERROR',
        'There was an error de-activating after an error was encountered: The rollback resulted in a bad exit code: Some(1)'
      ),
      deploy('ERROR', 'Deployment to node web failed, rolled back to previous generation')
    ])
    expect(outcome).toMatchObject({ status: 'failed', stage: 'activate' })
    expect(outcome.error).toMatch(/^rolling back node web failed/)
  })

  it('activation failure without auto rollback: failed in activate with the remote reason', () => {
    const outcome = classify([
      ...ACTIVATE,
      activate('ERROR', 'The activation script resulted in a bad exit code: Some(4)'),
      deploy('ERROR', 'Activating over SSH resulted in a bad exit code: Some(1)'),
      deploy(
        'ERROR',
        'Failed to deploy profile to node web: Activating over SSH resulted in a bad exit code: Some(1)'
      )
    ])
    expect(outcome).toEqual({
      status: 'failed',
      stage: 'activate',
      error:
        'Failed to deploy profile to node web: Activating over SSH resulted in a bad exit code: Some(1) — The activation script resulted in a bad exit code: Some(4)',
      changes: null
    })
  })

  it('old versions: an ERROR then exit 0 without rollback is a failure', () => {
    const outcome = classify(
      [
        ...PUSH,
        deploy('ERROR', 'Activating over SSH resulted in a bad exit code: Some(255)'),
        deploy('INFO', 'dry run, not rolling back'),
        deploy('INFO', 'Revoking previous deploys')
      ],
      { exitCode: 0, dryRun: true }
    )
    expect(outcome).toMatchObject({ status: 'failed', stage: 'activate', changes: null })
    expect(outcome.error).toContain('(deploy-rs still exited 0)')
  })

  it('a push failing with Permission denied is unreachable', () => {
    const outcome = classify([
      ...PUSH,
      'runner@10.0.0.5: Permission denied (publickey).',
      deploy('ERROR', 'Failed to push profile to node web: web')
    ])
    expect(outcome).toMatchObject({ status: 'unreachable', stage: 'push' })
    expect(outcome.error).toBe(
      'ssh authentication to web failed: runner@10.0.0.5: Permission denied (publickey).'
    )
  })

  it('a push failure without an ssh error stays failed, with nix detail', () => {
    const outcome = classify([
      ...PUSH,
      "error: cannot add path '/nix/store/abc-foo' because it lacks a signature by a trusted key",
      deploy('ERROR', 'Failed to push profile to node web: web')
    ])
    expect(outcome).toEqual({
      status: 'failed',
      stage: 'push',
      error:
        "Failed to push profile to node web — error: cannot add path '/nix/store/abc-foo' because it lacks a signature by a trusted key",
      changes: null
    })
  })

  it('an ssh failure while building locally (a remote builder) is not the node being unreachable', () => {
    const outcome = classify([
      deploy('INFO', 'Building profile `system` for node `web`'),
      "cannot build on 'ssh-ng://builder': error: failed to start SSH connection to 'builder'",
      deploy('ERROR', 'Failed to build profile on node web: web')
    ])
    expect(outcome).toMatchObject({ status: 'failed', stage: 'build' })
  })

  it('an ssh failure while building on the target (--remote-build) is', () => {
    const outcome = classify([
      deploy('INFO', 'Building profile `system` for node `web` on remote host'),
      'ssh: connect to host 10.0.0.5 port 22: No route to host',
      deploy('ERROR', 'Failed to build profile on node web: web')
    ])
    expect(outcome).toMatchObject({ status: 'unreachable', stage: 'build' })
  })

  it("ssh refusing the connection at activation is unreachable, with ssh's reason", () => {
    const outcome = classify([
      ...ACTIVATE,
      'ssh: connect to host 10.0.0.5 port 22: Connection refused',
      deploy(
        'ERROR',
        'Failed to deploy profile to node web: Activating over SSH resulted in a bad exit code: Some(255)'
      )
    ])
    expect(outcome).toMatchObject({ status: 'unreachable', stage: 'activate' })
    expect(outcome.error).toContain('ssh: connect to host 10.0.0.5 port 22: Connection refused')
  })

  it('an ssh failure after the host already answered in the activation stays failed', () => {
    const outcome = classify([
      ...ACTIVATE,
      activate('INFO', 'Activating profile'),
      'ssh: connect to host 10.0.0.5 port 22: Connection refused',
      deploy('ERROR', 'Waiting over SSH resulted in a bad exit code: Some(255)')
    ])
    expect(outcome).toMatchObject({ status: 'failed', stage: 'activate' })
  })

  it('old messages without node names still give the stage', () => {
    expect(
      classify([
        deploy('INFO', 'Building profile `system` for node `web`'),
        deploy(
          'ERROR',
          'Failed to push profile: Nix build command resulted in a bad exit code: Some(1)'
        )
      ])
    ).toMatchObject({ status: 'failed', stage: 'build' })
  })

  it('failed dry runs keep the changes parsed so far; without any they are null', () => {
    const withChanges = classify(
      [...PUSH, 'would restart the following units: sshd.service', 'Pre-switch checks failed'],
      { exitCode: 0, dryRun: true }
    )
    expect(withChanges).toMatchObject({ status: 'failed', stage: 'activate' })
    expect(withChanges.changes?.restart).toEqual(['sshd.service'])
    expect(
      classify([...PUSH, 'Pre-switch checks failed'], { exitCode: 0, dryRun: true }).changes
    ).toBeNull()
  })

  it('the dry failure is ignored on real deploys (they fail on their own exit code)', () => {
    expect(
      classify(
        [...ACTIVATE, 'Pre-switch checks failed', deploy('INFO', 'Success activating, done!')],
        {
          exitCode: 0
        }
      )
    ).toMatchObject({ status: 'deployed' })
  })

  it('trims long errors to one line of at most 300 characters', () => {
    const outcome = classify([...PUSH, deploy('ERROR', `Failed with\ttabs ${'x'.repeat(1000)}`)])
    expect(outcome.error?.length).toBe(300)
    expect(outcome.error).toMatch(/^Failed with tabs x+…$/)
  })
})

describe('errorLine', () => {
  it('collapses whitespace and cuts', () => {
    expect(errorLine('  a\n  b\r\n c  ')).toBe('a b c')
    expect(errorLine('abcdef', 4)).toBe('abc…')
  })
})

describe('stageOfMessage', () => {
  it.each([
    [
      'Failed to check deployment: Nix checking command resulted in a bad exit code: Some(1)',
      'check'
    ],
    ['Failed to evaluate deployment data: Evaluation resulted in a bad exit code: Some(1)', 'eval'],
    ['Error parsing flake: Unrecognized node or token encountered', 'eval'],
    ['Failed to build profile on node web: web', 'build'],
    ['Failed to push profile: Nix build command resulted in a bad exit code: Some(1)', 'build'],
    ['Failed to push profile to node web: web', 'push'],
    ['Failed to push profile: Nix copy command resulted in a bad exit code: Some(1)', 'push'],
    ['Activating over SSH resulted in a bad exit code: Some(1)', 'activate'],
    [
      'Failed to deploy profile to node web: Waiting over SSH resulted in a bad exit code: Some(1)',
      'activate'
    ],
    [
      'Error confirming deployment: Confirming activation over SSH resulted in a bad exit code (the server should roll back): Some(255)',
      'confirm'
    ],
    ['Something else entirely', null]
  ])('%s → %s', (message, stage) => {
    expect(stageOfMessage(message)).toBe(stage)
  })
})
