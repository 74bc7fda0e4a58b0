/**
 * The deploy-rs stand-in prints upstream deploy-rs's lines in upstream's order
 * (serokell/deploy-rs src/cli.rs run_deploy, src/deploy.rs deploy_profile /
 * confirm_profile / revoke, src/bin/activate.rs activate / deactivate / wait,
 * nixpkgs switch-to-configuration), over real ssh to the sandbox fleet. The
 * expected sequences below are written from upstream's source and its issue
 * reports (#58, #137, #287, #291), not from the action's parser.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { startFleet, type Fleet } from '../../test-support/fleet/index.js'

interface Run {
  code: number | null
  /** stderr, ANSI codes removed, split into lines (CR LF or LF) */
  lines: string[]
}

let fleet: Fleet
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  fleet = await startFleet({
    nodes: [
      { name: 'web' },
      { name: 'fails', behaviour: 'activation-fails' },
      { name: 'stays', behaviour: 'activation-fails', autoRollback: false },
      { name: 'lost', behaviour: 'ssh-lost' },
      { name: 'lostdry', behaviour: 'ssh-lost' },
      { name: 'noconfirm', behaviour: 'confirm-timeout' },
      { name: 'preswitch', behaviour: 'dry-pre-switch-fails' },
      { name: 'badinit', behaviour: 'dry-incompatible-init' },
      { name: 'notnixos', behaviour: 'dry-not-nixos' },
      { name: 'locked', behaviour: 'dry-lock-busy' },
      { name: 'v2023', behaviour: 'activation-fails', deployRsVersion: '2023' },
      { name: 'v2022', behaviour: 'activation-fails', deployRsVersion: '2022' },
      { name: 'two', profiles: ['system', 'app'] }
    ]
  })
  env = { ...process.env, ...fleet.env, PATH: `${fleet.binDir}:${process.env.PATH ?? ''}` }
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
})

/** Runs the stand-in until its stderr closes (ssh children it left behind included). */
function deploy(args: string[], timeoutMs = 20_000): Promise<Run> {
  const [file, ...rest] = fleet.standInCommand
  return new Promise((resolve, reject) => {
    const child = spawn(file!, [...rest, '-s', `--ssh-opts=-F ${fleet.sshConfigPath}`, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    let code: number | null = null
    child.on('exit', c => (code = c))
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(timer)
      // ssh ends its own messages with CR LF
      // eslint-disable-next-line no-control-regex
      resolve({ code, lines: stderr.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/) })
    })
  })
}

/** The lines after the last `Copying profile` line (activation onwards), [wait] lines left out (they run alongside). */
function fromActivation(run: Run): string[] {
  const start = run.lines.findLastIndex(line => line.includes('Copying profile'))
  return run.lines.slice(start + 1).filter(line => line !== '' && !line.includes('[wait]'))
}

const deactivation = (source: 'activate' | 'revoke', generation: number): string[] => [
  `${source === 'activate' ? '⭐' : '↩️'} ⚠️ [${source}] [WARN] De-activating due to error`,
  `switching profile from version ${generation} to ${generation - 1}`,
  `${source === 'activate' ? '⭐' : '↩️'} ⚠️ [${source}] [WARN] Removing generation by ID ${generation}`,
  `removing profile version ${generation}`,
  `${source === 'activate' ? '⭐' : '↩️'} ℹ️ [${source}] [INFO] Attempting to re-activate the last generation`,
  'activating the configuration...'
]

describe('an activation that fails (magic rollback on, as by default)', () => {
  it('with autoRollback (default): activate-rs de-activates, then its error; deploy: inner error, Revoking, the rollback line', async () => {
    const run = await deploy([`${fleet.flakeDir}#fails`])
    expect(run.code).toBe(1)
    expect(fromActivation(run)).toEqual([
      '🚀 ℹ️ [deploy] [INFO] Activating profile `system` for node `fails`',
      '🚀 ℹ️ [deploy] [INFO] Creating activation waiter',
      '⭐ ℹ️ [activate] [INFO] Activating profile',
      'activating the configuration...',
      ...deactivation('activate', 2),
      '⭐ ❌ [activate] [ERROR] The activation script resulted in a bad exit code: Some(1)',
      '🚀 ❌ [deploy] [ERROR] Activating over SSH resulted in a bad exit code: Some(1)',
      '🚀 ℹ️ [deploy] [INFO] Revoking previous deploys',
      '🚀 ❌ [deploy] [ERROR] Deployment to node fails failed, rolled back to previous generation'
    ])
    // The waiter deploy left running gives up after deploy has ended (upstream #58, #137).
    expect(run.lines.at(-2)).toBe(
      '👀 ❌ [wait] [ERROR] Error waiting for activation: Timeout elapsed for confirmation'
    )
    expect(await fleet.hostLog('fails')).toEqual([
      expect.stringMatching(/^push system /),
      'activate system',
      'rollback system'
    ])
  }, 30_000)

  it('with autoRollback = false: no de-activation; deploy still prints the rollback line', async () => {
    const run = await deploy([`${fleet.flakeDir}#stays`])
    expect(run.code).toBe(1)
    expect(fromActivation(run)).toEqual([
      '🚀 ℹ️ [deploy] [INFO] Activating profile `system` for node `stays`',
      '🚀 ℹ️ [deploy] [INFO] Creating activation waiter',
      '⭐ ℹ️ [activate] [INFO] Activating profile',
      'activating the configuration...',
      '⭐ ❌ [activate] [ERROR] The activation script resulted in a bad exit code: Some(1)',
      '🚀 ❌ [deploy] [ERROR] Activating over SSH resulted in a bad exit code: Some(1)',
      '🚀 ℹ️ [deploy] [INFO] Revoking previous deploys',
      '🚀 ❌ [deploy] [ERROR] Deployment to node stays failed, rolled back to previous generation'
    ])
    expect(await fleet.hostLog('stays')).not.toContain('rollback system')
  }, 30_000)

  it('with --auto-rollback false: no de-activation, no revoking, `Failed to deploy profile to node N: <inner>`', async () => {
    const run = await deploy(['--auto-rollback', 'false', `${fleet.flakeDir}#fails`])
    expect(run.code).toBe(1)
    const lines = fromActivation(run)
    expect(lines.filter(line => /De-activating|Revoking/.test(line))).toEqual([])
    expect(lines.slice(-2)).toEqual([
      '🚀 ❌ [deploy] [ERROR] Activating over SSH resulted in a bad exit code: Some(1)',
      '🚀 ❌ [deploy] [ERROR] Failed to deploy profile to node fails: Activating over SSH resulted in a bad exit code: Some(1)'
    ])
  }, 30_000)

  it('in the 2022-11..2024-06 wording: `Deployment failed, rolled back to previous generation`', async () => {
    const run = await deploy([`${fleet.flakeDir}#v2023`])
    expect(run.code).toBe(1)
    expect(fromActivation(run).slice(-3)).toEqual([
      '🚀 ❌ [deploy] [ERROR] Activating over SSH resulted in a bad exit code: Some(1)',
      '🚀 ℹ️ [deploy] [INFO] Revoking previous deploys',
      '🚀 ❌ [deploy] [ERROR] Deployment failed, rolled back to previous generation'
    ])
  }, 30_000)

  it('before 2022-11: the inner error and `Revoking previous deploys`, no final line, exit 0', async () => {
    const run = await deploy([`${fleet.flakeDir}#v2022`])
    expect(run.code).toBe(0)
    const lines = fromActivation(run)
    expect(lines).toContain(deactivation('activate', 2)[0])
    expect(lines.slice(-2)).toEqual([
      '🚀 ❌ [deploy] [ERROR] Activating over SSH resulted in a bad exit code: Some(1)',
      '🚀 ℹ️ [deploy] [INFO] Revoking previous deploys'
    ])
  }, 30_000)
})

describe('ssh itself failing at activation', () => {
  it("shows ssh's own `Connection refused` and Some(255); nothing is activated", async () => {
    const run = await deploy([`${fleet.flakeDir}#lost`])
    expect(run.code).toBe(1)
    const host = fleet.host('lost')
    const refused = `ssh: connect to host ${host.address} port ${host.port}: Connection refused`
    const lines = fromActivation(run).filter(line => line !== refused)
    expect(lines).toEqual([
      '🚀 ℹ️ [deploy] [INFO] Activating profile `system` for node `lost`',
      '🚀 ℹ️ [deploy] [INFO] Creating activation waiter',
      // the activation's ssh or the waiter's, whichever deploy sees first (a race upstream too)
      expect.stringMatching(
        /^🚀 ❌ \[deploy\] \[ERROR\] (Activating|Waiting) over SSH resulted in a bad exit code: Some\(255\)$/
      ),
      '🚀 ℹ️ [deploy] [INFO] Revoking previous deploys',
      '🚀 ❌ [deploy] [ERROR] Deployment to node lost failed, rolled back to previous generation'
    ])
    expect(run.lines).toContain(refused)
    expect(await fleet.hostLog('lost')).toEqual([expect.stringMatching(/^push system /)])
  }, 30_000)

  it('in a dry run: `dry run, not rolling back`, then `Failed to deploy profile to node N: ...`', async () => {
    const run = await deploy([
      '--dry-activate',
      '--rollback-succeeded',
      'false',
      `${fleet.flakeDir}#lostdry`
    ])
    expect(run.code).toBe(1)
    const host = fleet.host('lostdry')
    expect(fromActivation(run)).toEqual([
      `ssh: connect to host ${host.address} port ${host.port}: Connection refused`,
      '🚀 ❌ [deploy] [ERROR] Activating over SSH resulted in a bad exit code: Some(255)',
      '🚀 ℹ️ [deploy] [INFO] dry run, not rolling back',
      '🚀 ❌ [deploy] [ERROR] Failed to deploy profile to node lostdry: Activating over SSH resulted in a bad exit code: Some(255)'
    ])
  }, 30_000)
})

describe('a confirmation that cannot reach the host (magic rollback)', () => {
  it('the host de-activates after its timeout and reports it; deploy panics (upstream #287), exit 101', async () => {
    const run = await deploy([`${fleet.flakeDir}#noconfirm`])
    expect(run.code).toBe(101)
    const host = fleet.host('noconfirm')
    expect(fromActivation(run)).toEqual([
      '🚀 ℹ️ [deploy] [INFO] Activating profile `system` for node `noconfirm`',
      '🚀 ℹ️ [deploy] [INFO] Creating activation waiter',
      '⭐ ℹ️ [activate] [INFO] Activating profile',
      'activating the configuration...',
      '⭐ ℹ️ [activate] [INFO] Activation succeeded!',
      '⭐ ℹ️ [activate] [INFO] Magic rollback is enabled, setting up confirmation hook...',
      '⭐ ℹ️ [activate] [INFO] Waiting for confirmation event...',
      '🚀 ℹ️ [deploy] [INFO] Success activating, attempting to confirm activation',
      `ssh: connect to host ${host.address} port ${host.port}: Connection refused`,
      ...deactivation('activate', 2),
      '⭐ ❌ [activate] [ERROR] Failed to get activation confirmation: Error waiting for confirmation event: Timeout elapsed for confirmation',
      "thread 'tokio-runtime-worker' panicked at /build/source/src/deploy.rs:488:41:",
      'called `Result::unwrap()` on an `Err` value: SSHActivateExit(Some(1))',
      'note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace',
      "thread 'main' panicked at /build/source/src/deploy.rs:523:30:",
      'called `Result::unwrap()` on an `Err` value: RecvError(())'
    ])
    expect(run.lines).toContain('👀 ℹ️ [wait] [INFO] Found canary file, done waiting!')
    expect(await fleet.hostLog('noconfirm')).toEqual([
      expect.stringMatching(/^push system /),
      'activate system',
      'rollback system'
    ])
    // The rolled-back configuration lets ssh in again.
    const again = await deploy([`${fleet.flakeDir}#noconfirm`, '--magic-rollback', 'false'])
    expect(again.code).toBe(0)
    expect(again.lines).toContain('🚀 ℹ️ [deploy] [INFO] Success activating, done!')
  }, 30_000)
})

describe('dry runs that switch-to-configuration refuses', () => {
  const cases: [string, string[]][] = [
    ['preswitch', ["Pre-switch check 'switchInhibitors' failed", 'Pre-switch checks failed']],
    [
      'badinit',
      [
        'Warning: the new NixOS configuration has an ‘init’ that is',
        'incompatible with the current configuration.  The new configuration',
        "won't take effect until you reboot the system."
      ]
    ],
    ['notnixos', ['This is not a NixOS installation!']],
    ['locked', ['Could not acquire lock']]
  ]
  for (const [node, refusal] of cases) {
    it(`${node}: prints the refusal, no \`would activate\`, and still \`Completed dry-activate!\`, exit 0`, async () => {
      const run = await deploy([
        '--dry-activate',
        '--rollback-succeeded',
        'false',
        `${fleet.flakeDir}#${node}`
      ])
      expect(run.code).toBe(0)
      expect(fromActivation(run)).toEqual([
        ...refusal,
        '🚀 ℹ️ [deploy] [INFO] Completed dry-activate!'
      ])
    }, 30_000)
  }

  it('a real activation refused by switch-to-configuration fails with its exit code (100 for init)', async () => {
    const run = await deploy([`${fleet.flakeDir}#badinit`])
    expect(run.code).toBe(1)
    expect(fromActivation(run)).toContain(
      '⭐ ❌ [activate] [ERROR] The activation script resulted in a bad exit code: Some(100)'
    )
  }, 30_000)
})

describe('revoking the profiles that succeeded earlier in the same call', () => {
  it('prints the [revoke] lines (WARN, WARN, INFO) for the earlier profile', async () => {
    await fleet.setBehaviour('two', 'ok')
    // First call: both profiles deploy (generation 2 of each).
    expect((await deploy([`${fleet.flakeDir}#two`])).code).toBe(0)
    // A later node fails in the same call: `two`'s profiles are revoked.
    const run = await deploy([
      '--targets',
      `${fleet.flakeDir}#two.system`,
      `${fleet.flakeDir}#fails`
    ])
    expect(run.code).toBe(1)
    const lines = fromActivation(run)
    const revoking = lines.indexOf('🚀 ℹ️ [deploy] [INFO] Revoking previous deploys')
    expect(revoking).toBeGreaterThan(0)
    expect(lines.slice(revoking + 1)).toEqual([
      ...deactivation('revoke', 3),
      '🚀 ❌ [deploy] [ERROR] Deployment to node fails failed, rolled back to previous generation'
    ])
    expect((await fleet.hostLog('two')).at(-1)).toBe('revoke system')
  }, 40_000)
})

describe('targets deploy-rs cannot resolve', () => {
  it('names a missing node as upstream does', async () => {
    const run = await deploy([`${fleet.flakeDir}#nosuch`])
    expect(run.code).toBe(1)
    expect(run.lines).toContain('🚀 ❌ [deploy] [ERROR] No node named `nosuch` was found')
  }, 30_000)

  it('names a missing profile as upstream does', async () => {
    const run = await deploy([`${fleet.flakeDir}#web.nosuch`])
    expect(run.code).toBe(1)
    expect(run.lines).toContain('🚀 ❌ [deploy] [ERROR] No profile named `nosuch` was found')
  }, 30_000)
})
