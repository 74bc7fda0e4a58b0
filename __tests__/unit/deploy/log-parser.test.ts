import { describe, it, expect } from '@jest/globals'
import { DeployLogParser, parseDeployLine } from '../../../src/deploy/log-parser.js'
import { stripAnsi } from '../../../src/text.js'

const ESC = '\u001b'
const COLOURS = { ERROR: 196, WARN: 208, INFO: 51, DEBUG: 7 } as const
const EMOJI = { ERROR: '❌', WARN: '⚠️', INFO: 'ℹ️', DEBUG: '❓' } as const
type Level = keyof typeof COLOURS

function line(prefix: string, tag: string, level: Level, message: string): string {
  return `${prefix} ${EMOJI[level]} [${tag}] [${ESC}[38;5;${COLOURS[level]}m${level}${ESC}[0m] ${message}`
}
const deploy = (level: Level, message: string): string => line('🚀', 'deploy', level, message)
const activate = (level: Level, message: string): string => line('⭐', 'activate', level, message)
const wait = (level: Level, message: string): string => line('👀', 'wait', level, message)
const revoke = (level: Level, message: string): string => line('↩️', 'revoke', level, message)

function parse(lines: string[], options?: ConstructorParameters<typeof DeployLogParser>[0]) {
  const parser = new DeployLogParser(options)
  for (const l of lines) parser.push(l, 'stderr')
  return parser
}

describe('stripAnsi / parseDeployLine', () => {
  it('strips the colour codes around the level word', () => {
    expect(stripAnsi(`[${ESC}[38;5;51mINFO${ESC}[0m]`)).toBe('[INFO]')
    expect(stripAnsi(`${ESC}[1;38;5;196mERROR${ESC}[0m${ESC}[K`)).toBe('ERROR')
  })

  it.each([
    ['🚀 ℹ️ [deploy] [INFO] Evaluating flake in .', 'deploy', 'INFO'],
    ['🚀ℹ️ [deploy] [INFO] Evaluating flake in .', 'deploy', 'INFO'],
    ['🚀 ℹ️  [deploy] [INFO] Evaluating flake in .', 'deploy', 'INFO'],
    ['🚀 ℹ [deploy] [INFO] Evaluating flake in .', 'deploy', 'INFO'],
    ['🚀 ❌ [deploy] [ERROR] Evaluating flake in .', 'deploy', 'ERROR'],
    ['⭐ ⚠️ [activate] [WARN] Evaluating flake in .', 'activate', 'WARN'],
    ['👀 ❓ [wait] [DEBUG] Evaluating flake in .', 'wait', 'DEBUG'],
    ['↩️ 🖊️ [revoke] [TRACE] Evaluating flake in .', 'revoke', 'TRACE'],
    ['↩ ℹ️ [revoke] [INFO] Evaluating flake in .', 'revoke', 'INFO']
  ])('recognises %s', (text, source, level) => {
    expect(parseDeployLine(text)).toEqual({ source, level, message: 'Evaluating flake in .' })
  })

  it('ignores plain lines that only mention a tag', () => {
    expect(parseDeployLine('error: builder for foo failed [deploy] [INFO]')).toBeNull()
    expect(parseDeployLine('copying path to ssh://runner@10.0.0.5')).toBeNull()
  })
})

describe('DeployLogParser stages', () => {
  it('tracks check → eval → build → push → activate → confirm', () => {
    const parser = new DeployLogParser()
    const seen: (string | null)[] = []
    for (const l of [
      deploy('INFO', 'Running checks for flake in .'),
      deploy('INFO', 'Evaluating flake in .'),
      deploy('INFO', 'Building profile `system` for node `web`'),
      deploy('INFO', 'Copying profile `system` to node `web`'),
      deploy('INFO', 'Activating profile `system` for node `web`'),
      activate('INFO', 'Activating profile'),
      wait('INFO', 'Waiting for confirmation event...'),
      activate('INFO', 'Activation succeeded!'),
      activate('INFO', 'Magic rollback is enabled, setting up confirmation hook...')
    ]) {
      parser.push(l, 'stderr')
      seen.push(parser.summary().stage)
    }
    expect(seen).toEqual([
      'check',
      'eval',
      'build',
      'push',
      'activate',
      'activate',
      'activate',
      'activate',
      'confirm'
    ])
  })

  it('goes back to activate for the next profile but remembers the furthest stage', () => {
    const summary = parse([
      deploy('INFO', 'Activating profile `system` for node `web`'),
      deploy('INFO', 'Success activating, attempting to confirm activation'),
      deploy('INFO', 'Deployment confirmed.'),
      deploy('INFO', 'Activating profile `home` for node `web`')
    ]).summary()
    expect(summary.stage).toBe('activate')
  })

  it('marks remote builds', () => {
    const summary = parse([
      deploy('INFO', 'Building profile `system` for node `web` on remote host')
    ]).summary()
    expect(summary.stage).toBe('build')
    expect(summary.remoteBuild).toBe(true)
  })

  it('puts a dry activation in stage activate (no "Activating" line is printed)', () => {
    const summary = parse([
      deploy('INFO', 'Copying profile `system` to node `web`'),
      'would start the following units: a.service'
    ]).summary()
    expect(summary.stage).toBe('activate')
  })
})

describe('DeployLogParser messages', () => {
  it('keeps the last deploy-rs ERROR messages with their stage, and remote errors apart', () => {
    const summary = parse([
      deploy('INFO', 'Activating profile `system` for node `web`'),
      activate('ERROR', 'The activation script resulted in a bad exit code: Some(4)'),
      deploy('ERROR', 'Activating over SSH resulted in a bad exit code: Some(1)'),
      deploy(
        'ERROR',
        'Failed to deploy profile to node web: Activating over SSH resulted in a bad exit code: Some(1)'
      )
    ]).summary()
    expect(summary.deployErrors.map(e => e.message)).toEqual([
      'Activating over SSH resulted in a bad exit code: Some(1)',
      'Failed to deploy profile to node web: Activating over SSH resulted in a bad exit code: Some(1)'
    ])
    expect(summary.deployErrors[1].stage).toBe('activate')
    expect(summary.remoteError?.message).toBe(
      'The activation script resulted in a bad exit code: Some(4)'
    )
    expect(summary.errorAfterLastSuccess).toBe(true)
  })

  it('keeps at most five deploy errors', () => {
    const summary = parse(
      Array.from({ length: 20 }, (_, i) => deploy('ERROR', `error number ${i}`))
    ).summary()
    expect(summary.deployErrors.map(e => e.message)).toEqual(
      [15, 16, 17, 18, 19].map(i => `error number ${i}`)
    )
  })

  it.each([
    'Deployment to node web failed, rolled back to previous generation',
    'Deployment failed, rolled back to previous generation'
  ])("keeps deploy-rs's final '%s' apart: a failure marker, no rollback evidence", message => {
    const summary = parse([deploy('ERROR', message)]).summary()
    expect(summary.rollbackClaim).toBe(message)
    expect(summary.rollback).toBeNull()
    expect(summary.deployErrors).toEqual([])
    expect(summary.errorAfterLastSuccess).toBe(true)
  })

  it('records revoke lines and activate-rs de-activation as rollback evidence', () => {
    expect(parse([revoke('WARN', 'De-activating due to error')]).summary().rollback).toMatchObject({
      source: 'revoke'
    })
    expect(
      parse([activate('WARN', 'De-activating due to error')]).summary().rollback
    ).toMatchObject({ source: 'activate' })
    expect(parse([deploy('INFO', 'Revoking previous deploys')]).summary().rollback).toBeNull()
  })

  it('records a rollback that failed', () => {
    const summary = parse([
      activate('WARN', 'De-activating due to error'),
      activate(
        'ERROR',
        'There was an error de-activating after an error was encountered: The rollback resulted in a bad exit code: Some(1)'
      )
    ]).summary()
    expect(summary.rollbackFailure?.message).toMatch(/^There was an error de-activating/)
  })

  it('counts success lines and resets errorAfterLastSuccess', () => {
    const summary = parse([
      deploy('ERROR', 'Cannot use both --dry-activate & --boot!'),
      deploy('INFO', 'Completed dry-activate!')
    ]).summary()
    expect(summary.errorAfterLastSuccess).toBe(false)
  })

  it('remembers the first informative nix error of the current stage', () => {
    const summary = parse([
      deploy('INFO', 'Building profile `system` for node `web`'),
      `${ESC}[31;1merror:${ESC}[0m`,
      "       error: builder for '/nix/store/x.drv' failed with exit code 2;",
      "error: 1 dependencies of derivation '/nix/store/y.drv' failed to build",
      'error: something later'
    ]).summary()
    expect(summary.commandError).toEqual({
      message: "error: builder for '/nix/store/x.drv' failed with exit code 2;",
      stage: 'build'
    })
    expect(summary.firstPlainError).toBe('error:')
  })
})

describe('DeployLogParser dry activation', () => {
  it('parses would lines, tolerant of old variants, into UnitChanges', () => {
    const summary = parse([
      'would stop the following units: a.service, b.mount',
      'would NOT stop the following changed units: c.service',
      'would NOT restart the following changed units: c2.service',
      'would activate the configuration...',
      'would restart systemd',
      'would reload the following units: d.service',
      'would restart the following units: e.service',
      'would restart the following units as well: e2.service, e.service',
      'would start the following units: f.service',
      'would start the following units as well: g.socket'
    ]).summary()
    expect(summary.changes).toEqual({
      stop: ['a.service', 'b.mount'],
      restart: ['e.service', 'e2.service'],
      start: ['f.service', 'g.socket'],
      reload: ['d.service'],
      restartSystemd: true
    })
    expect(summary.sawChanges).toBe(true)
  })

  it('reports no changes when no would line was printed', () => {
    const summary = parse([deploy('INFO', 'Completed dry-activate!')]).summary()
    expect(summary.sawChanges).toBe(false)
    expect(summary.changes).toEqual({
      stop: [],
      restart: [],
      start: [],
      reload: [],
      restartSystemd: false
    })
  })

  it.each([
    ['Pre-switch checks failed', 'Pre-switch checks failed'],
    ["Pre-switch check 'switchInhibitors' failed", "Pre-switch check 'switchInhibitors' failed"],
    [
      "Warning: the new NixOS configuration has an 'init' that is incompatible with the current configuration",
      "Warning: the new NixOS configuration has an 'init' that is incompatible with the current configuration"
    ],
    [
      '    Warning: the new NixOS configuration has an ‘init’ that is',
      'Warning: the new NixOS configuration has an ‘init’ that is'
    ]
  ])('records the dry failure %s', (text, expected) => {
    expect(parse([text]).summary().dryFailure).toBe(expected)
  })

  it('joins the init warning printed over three lines', () => {
    const summary = parse([
      'Warning: the new NixOS configuration has an ‘init’ that is',
      'incompatible with the current configuration.  The new configuration',
      "won't take effect until you reboot the system."
    ]).summary()
    expect(summary.dryFailure).toBe(
      "Warning: the new NixOS configuration has an ‘init’ that is incompatible with the current configuration. The new configuration won't take effect until you reboot the system."
    )
  })

  it('keeps unit lists bounded whatever is printed', () => {
    const parser = new DeployLogParser()
    for (let i = 0; i < 5000; i++) {
      parser.push(`would start the following units: u${i}a.service, u${i}b.service`, 'stderr')
    }
    expect(parser.summary().changes.start.length).toBeLessThanOrEqual(1000)
  })
})

describe('DeployLogParser ssh failures', () => {
  it.each([
    ['ssh: connect to host 10.0.0.5 port 22: Connection refused', 'connection-refused'],
    ['ssh: connect to host 10.0.0.5 port 22: Connection timed out', 'timed-out'],
    ['ssh: connect to host 10.0.0.5 port 22: No route to host', 'no-route'],
    ['Host key verification failed.', 'host-key'],
    ['runner@10.0.0.5: Permission denied (publickey).', 'auth'],
    ['runner@10.0.0.5: Permission denied (publickey,password).', 'auth'],
    ['ssh: Could not resolve hostname web.internal: Name or service not known', 'dns'],
    ['kex_exchange_identification: read: Connection reset by peer', 'closed'],
    ['Connection closed by 10.0.0.5 port 22', 'closed']
  ])('recognises %s', (text, kind) => {
    const summary = parse([
      deploy('INFO', 'Copying profile `system` to node `web`'),
      text
    ]).summary()
    expect(summary.sshFailure).toEqual({ message: text, stage: 'push', kind })
  })

  it("does not let nix's generic message replace ssh's own", () => {
    const summary = parse([
      deploy('INFO', 'Copying profile `system` to node `web`'),
      'ssh: connect to host 10.0.0.5 port 22: Connection refused',
      "error: failed to start SSH connection to '10.0.0.5'"
    ]).summary()
    expect(summary.sshFailure?.kind).toBe('connection-refused')
  })
})

describe('DeployLogParser tail and size', () => {
  it('keeps exactly the last N lines, ANSI stripped, oldest first', () => {
    const parser = new DeployLogParser({ tailLines: 7 })
    for (let i = 0; i < 1000; i++) parser.push(`${ESC}[1mline ${i}${ESC}[0m`, 'stdout')
    expect(parser.tail()).toEqual([993, 994, 995, 996, 997, 998, 999].map(i => `line ${i}`))
  })

  it('keeps all lines while fewer than N were fed, and defaults to 100', () => {
    const few = parse(['a', 'b'])
    expect(few.tail()).toEqual(['a', 'b'])
    const many = parse(Array.from({ length: 250 }, (_, i) => `l${i}`))
    expect(many.tail()).toHaveLength(100)
    expect(many.tail()[0]).toBe('l150')
  })

  it('keeps exactly N for every N and any count (ring wrap-around)', () => {
    for (const n of [0, 1, 2, 3, 10]) {
      for (const count of [0, 1, n - 1, n, n + 1, 3 * n + 2]) {
        if (count < 0) continue
        const parser = parse(
          Array.from({ length: count }, (_, i) => `x${i}`),
          { tailLines: n }
        )
        const expected = Array.from({ length: count }, (_, i) => `x${i}`).slice(
          Math.max(0, count - n)
        )
        expect(parser.tail()).toEqual(n === 0 ? [] : expected)
      }
    }
  })

  it('cuts very long lines in the tail', () => {
    const parser = parse(['y'.repeat(10_000)], { maxTailLineLength: 100 })
    expect(parser.tail()[0]).toBe('y'.repeat(100) + '…')
  })

  it('counts the UTF-8 bytes fed, newline included', () => {
    const parser = parse(['ab', '🚀'])
    expect(parser.bytes).toBe(3 + 5)
  })

  it('keeps its state bounded on a long stream', () => {
    const parser = new DeployLogParser({ tailLines: 10 })
    for (let i = 0; i < 100_000; i++) {
      parser.push(deploy('ERROR', `failure ${i}`), 'stderr')
      parser.push(`error: nix error ${i}`, 'stderr')
      parser.push('ssh: connect to host h port 22: Connection refused', 'stderr')
    }
    const summary = parser.summary()
    expect(summary.tail).toHaveLength(10)
    expect(summary.deployErrors).toHaveLength(5)
    expect(JSON.stringify(summary).length).toBeLessThan(10_000)
  })
})
