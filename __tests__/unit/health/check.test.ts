import { describe, expect, it } from '@jest/globals'
import type { CommandResult, RunCommand } from '../../../src/commands/process.js'
import { checkHealth, readBaseline, type HealthContext } from '../../../src/health/check.js'
import type { Workspace } from '../../../src/ssh/workspace.js'

const workspace: Workspace = {
  dir: '/tmp/deploy-rs-action-x',
  keyFiles: [],
  knownHostsFile: '/tmp/deploy-rs-action-x/known_hosts',
  sshConfigFile: '/tmp/deploy-rs-action-x/ssh_config',
  logsDir: '/tmp/deploy-rs-action-x/logs'
}

function result(overrides: Partial<CommandResult>): CommandResult {
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

/**
 * A host that answers each remote script from its command text: the token
 * is in the script (`T='...'`), as the real host's sh would see it.
 */
function fakeHost(answer: (command: string, token: string) => Partial<CommandResult>): {
  run: RunCommand
  commands: string[]
} {
  const commands: string[] = []
  return {
    commands,
    run: async argv => {
      const command = argv.at(-1) as string
      commands.push(command)
      const token = /T=\W*([0-9a-f]{32})/.exec(command)?.[1] ?? ''
      return result(answer(command, token))
    }
  }
}

function context(run: RunCommand, timeoutMs = 10_000): HealthContext {
  return {
    workspace,
    target: { hostname: 'web', sshUser: 'root', sshOpts: [] },
    user: 'root',
    timeoutMs,
    run
  }
}

const isBefore = (command: string): boolean => !command.includes('is-system-running')

describe('health check sessions', () => {
  it('opens no session when the check is off, one after the deploy for a command', async () => {
    const host = fakeHost(() => ({ stdout: 'fine\n' }))
    const off = await readBaseline({ kind: 'off' }, context(host.run))
    expect(await checkHealth(off as never, context(host.run))).toMatchObject({ health: null })
    expect(host.commands).toEqual([])

    const custom = await readBaseline(
      { kind: 'command', command: 'curl -f localhost' },
      context(host.run)
    )
    expect(host.commands).toEqual([])
    expect(await checkHealth(custom as never, context(host.run))).toMatchObject({
      health: { ok: true, output: 'fine' }
    })
    expect(host.commands).toEqual(['curl -f localhost'])
  })

  it('systemd: one session before, one after; no second one without systemctl', async () => {
    const host = fakeHost((command, token) =>
      isBefore(command)
        ? { stdout: `${token}:failed-units\nold.service loaded failed failed x\n${token}:end 0\n` }
        : {
            stdout: [
              `${token}:state degraded`,
              `${token}:failed-units`,
              'old.service loaded failed failed x',
              'web.service loaded failed failed y',
              `${token}:end 0`,
              `${token}:journal web.service`,
              'web: crashed',
              `${token}:journal-end`,
              ''
            ].join('\n')
          }
    )
    const check = { kind: 'systemd', requireSystemctl: false } as const
    const baseline = await readBaseline(check, context(host.run))
    const verdict = await checkHealth(baseline as never, context(host.run))
    expect(host.commands).toHaveLength(2)
    // the before list goes into the after script, quoted
    expect(host.commands[1]).toContain('before=')
    expect(host.commands[1]).toContain('old.service')
    expect(verdict).toMatchObject({
      health: { ok: false, newlyFailed: ['web.service'], alreadyFailed: ['old.service'] },
      journals: [{ unit: 'web.service', lines: ['web: crashed'] }]
    })

    const bare = fakeHost((_command, token) => ({ stdout: `${token}:no-systemctl\n` }))
    const none = await readBaseline(check, context(bare.run))
    expect(await checkHealth(none as never, context(bare.run))).toMatchObject({ health: null })
    expect(bare.commands).toHaveLength(1)
  })

  it('makes a lost connection or a timeout the reason', async () => {
    const check = { kind: 'systemd', requireSystemctl: false } as const
    const refused = fakeHost(() => ({
      code: 255,
      stderr: 'ssh: connect to host web port 22: Connection refused\n'
    }))
    const baseline = await readBaseline(check, context(refused.run))
    expect(await checkHealth(baseline as never, context(refused.run))).toMatchObject({
      health: { ok: false },
      error:
        'health check: could not read the failed units before the deploy: could not connect: ssh: connect to host web port 22: Connection refused'
    })
    expect(refused.commands).toHaveLength(1)

    const hangsAfter = fakeHost((command, token) =>
      isBefore(command)
        ? { stdout: `${token}:failed-units\n${token}:end 0\n` }
        : { code: null, signal: 'SIGTERM', timedOut: true }
    )
    const ok = await readBaseline(check, context(hangsAfter.run, 2500))
    expect(await checkHealth(ok as never, context(hangsAfter.run, 2500))).toMatchObject({
      health: { ok: false },
      error: 'health check: did not finish within 2.5 s'
    })
  })

  it("tells ssh's exit 255 from a command's own", async () => {
    const own = fakeHost(() => ({ code: 255, stdout: 'unhealthy: 3 errors\n' }))
    const cmd = { kind: 'command', command: 'check' } as const
    expect(
      await checkHealth((await readBaseline(cmd, context(own.run))) as never, context(own.run))
    ).toMatchObject({
      error: 'health check: the command exited with code 255',
      health: { output: 'unhealthy: 3 errors' }
    })
    const lost = fakeHost(() => ({
      code: 255,
      stderr: 'ssh: connect to host web port 22: No route to host\n'
    }))
    expect(
      await checkHealth((await readBaseline(cmd, context(lost.run))) as never, context(lost.run))
    ).toMatchObject({
      error: 'health check: could not connect: ssh: connect to host web port 22: No route to host'
    })
  })

  it('waits at most the timeout minus time to list units', async () => {
    const host = fakeHost((command, token) =>
      isBefore(command) ? { stdout: `${token}:failed-units\n${token}:end 0\n` } : { stdout: '' }
    )
    const check = { kind: 'systemd', requireSystemctl: false } as const
    const baseline = await readBaseline(check, context(host.run, 120_000))
    await checkHealth(baseline as never, context(host.run, 120_000))
    expect(host.commands[1]).toContain('+ 110 ))')
    await checkHealth(baseline as never, context(host.run, 4_000))
    expect(host.commands[2]).toContain('+ 3 ))')
  })
})
