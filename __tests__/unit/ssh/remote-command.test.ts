import { describe, expect, it } from '@jest/globals'
import { WORKSPACE_MARKER } from '../../../src/commands/leftover-processes.js'
import type { CommandOptions, CommandResult, RunCommand } from '../../../src/commands/process.js'
import {
  remoteCommandArgv,
  runRemoteCommand,
  sshFailure,
  sshUserFor,
  type RemoteTarget
} from '../../../src/ssh/remote-command.js'
import { sshOptionsFor, type Workspace } from '../../../src/ssh/workspace.js'

const workspace: Workspace = {
  dir: '/tmp/deploy-rs-action-x',
  keyFiles: ['/tmp/deploy-rs-action-x/keys/key-1'],
  knownHostsFile: '/tmp/deploy-rs-action-x/known_hosts',
  sshConfigFile: '/tmp/deploy-rs-action-x/ssh_config',
  logsDir: '/tmp/deploy-rs-action-x/logs'
}
const target: RemoteTarget = { hostname: 'web.lan', sshUser: 'deploy', sshOpts: ['-p', '2222'] }

function result(overrides: Partial<CommandResult> = {}): CommandResult {
  return {
    code: 0,
    signal: null,
    stdout: '',
    stderr: '',
    timedOut: false,
    startError: null,
    ...overrides
  }
}

function recorder(answer: CommandResult): {
  run: RunCommand
  calls: { argv: readonly string[]; options: CommandOptions }[]
} {
  const calls: { argv: readonly string[]; options: CommandOptions }[] = []
  return {
    calls,
    run: async (argv, options) => {
      calls.push({ argv, options })
      return answer
    }
  }
}

describe('remote command argv', () => {
  it("uses deploy-rs's connection: the workspace options, the node's sshOpts, user@hostname, the command as one word", () => {
    const argv = remoteCommandArgv(workspace, target, 'deploy', 'echo "a b"; exit 3')
    expect(argv).toEqual([
      'ssh',
      ...sshOptionsFor(workspace, ['-p', '2222']),
      '--',
      'deploy@web.lan',
      'echo "a b"; exit 3'
    ])
  })

  it('ends the options before the destination: a user name cannot be an option', () => {
    const argv = remoteCommandArgv(workspace, target, '-oProxyCommand=touch /tmp/x', 'true')
    expect(argv.indexOf('--')).toBe(argv.length - 3)
    expect(argv.at(-2)).toBe('-oProxyCommand=touch /tmp/x@web.lan')
  })

  it('logs in as deploy-rs does: ssh-user input, else the node sshUser, else the local user', () => {
    expect(sshUserFor(target, 'ops', () => 'runner')).toBe('ops')
    expect(sshUserFor(target, null, () => 'runner')).toBe('deploy')
    expect(sshUserFor({ ...target, sshUser: null }, null, () => 'runner')).toBe('runner')
  })
})

describe('runRemoteCommand', () => {
  const base = {
    workspace,
    target,
    user: 'deploy',
    command: 'true',
    timeoutMs: 5000,
    maxOutputBytes: 1000
  }

  it('passes the timeout, the output bound and the workspace marker to the child', async () => {
    const { run, calls } = recorder(result({ stdout: 'hi' }))
    const outcome = await runRemoteCommand({ ...base, run })
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0, stdout: 'hi', stderr: '' })
    expect(calls[0]!.options).toMatchObject({
      timeoutMs: 5000,
      maxOutputBytes: 1000,
      extraEnv: { [WORKSPACE_MARKER]: workspace.dir }
    })
  })

  it('tells a timeout, a start failure, a kill and a cancellation apart', async () => {
    expect(
      await runRemoteCommand({
        ...base,
        run: recorder(result({ code: null, signal: 'SIGTERM', timedOut: true, stdout: 'so far' }))
          .run
      })
    ).toEqual({ kind: 'timed-out', stdout: 'so far', stderr: '' })
    const enoent = Object.assign(new Error('spawn ssh ENOENT'), { code: 'ENOENT' })
    expect(
      await runRemoteCommand({
        ...base,
        run: recorder(result({ code: null, startError: enoent })).run
      })
    ).toEqual({ kind: 'broken', message: 'ssh could not be started: spawn ssh ENOENT' })
    expect(
      await runRemoteCommand({
        ...base,
        run: recorder(result({ code: null, signal: 'SIGKILL' })).run
      })
    ).toEqual({ kind: 'broken', message: 'ssh was killed by SIGKILL' })
    const aborted = new AbortController()
    aborted.abort()
    expect(
      await runRemoteCommand({
        ...base,
        abortSignal: aborted.signal,
        run: recorder(result({ code: null, signal: 'SIGTERM' })).run
      })
    ).toEqual({ kind: 'cancelled' })
  })

  it("reads ssh's own complaint from exit 255", async () => {
    const outcome = await runRemoteCommand({
      ...base,
      run: recorder(
        result({
          code: 255,
          stderr: 'ssh: connect to host web.lan port 2222: Connection refused\r\n'
        })
      ).run
    })
    expect(sshFailure(outcome)).toBe('ssh: connect to host web.lan port 2222: Connection refused')
    expect(sshFailure({ kind: 'exited', exitCode: 1, stdout: '', stderr: 'x' })).toBeNull()
  })
})
