/**
 * Secrets never leak: across a set of runs (deploy, failure, encrypted key,
 * bad input, dry run with a PR comment on a fake GitHub API), no line of a
 * private key, no passphrase and no token shows in anything a person can
 * read: the job log (main and post), the summary, the outputs, the saved
 * state, annotations, or the PR comment. Each was announced to the runner
 * with ::add-mask::. Key files are 0600 in a 0700 workspace while the deploy
 * runs, and gone after post.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeKey, startFleet, type Fleet, type KeyPair } from '../../test-support/fleet/index.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { timingTable } from '../../test-support/action/timings.js'
import {
  fleetInputs,
  leftovers,
  runOnFleet,
  statuses,
  visibleText
} from '../../test-support/action/fleet-run.js'
import { startFakeGitHub, type FakeGitHub } from '../../test-support/github-api/server.js'
import { waitUntil } from '../../test-support/action/processes.js'

const PASSPHRASE = 'tr0ub4dor&3 battery-staple'
const PR = 7
const PR_PAYLOAD = {
  pull_request: {
    number: PR,
    head: { sha: 'feedfacefeedfacefeedfacefeedfacefeedface', repo: { full_name: 'octo/homelab' } }
  }
}

let fleet: Fleet
let api: FakeGitHub
let encrypted: KeyPair
/** The key as the action decrypted it into its workspace (read while the deploy ran). */
let decrypted = ''
const scratch: string[] = []
const runs: { scenario: string; run: ActionRun }[] = []
const timings = timingTable('scenario')

/** The base64 lines of a private key: each one is a secret of its own. */
function keyLines(keyText: string): string[] {
  return keyText
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => /^[A-Za-z0-9+/=]{16,}$/.test(line))
}

function secrets(): { name: string; value: string }[] {
  return [
    ...keyLines(fleet.clientKey.privateKeyText).map((value, i) => ({
      name: `client key line ${i + 1}`,
      value
    })),
    ...keyLines(encrypted.privateKeyText).map((value, i) => ({
      name: `encrypted key line ${i + 1}`,
      value
    })),
    ...keyLines(decrypted).map((value, i) => ({ name: `decrypted key line ${i + 1}`, value })),
    { name: 'passphrase', value: PASSPHRASE },
    { name: 'github token', value: fleetInputs(fleet)['github-token'] }
  ]
}

/** Everything of a run a person (or the PR) could read. */
function readable(run: ActionRun): string {
  return [
    visibleText(run),
    run.post?.stdout ?? '',
    run.post?.stderr ?? '',
    JSON.stringify(run.state),
    // The runner shows annotations and the failure message from these commands.
    run.commands
      .filter(c => c.command !== 'add-mask')
      .map(c => `${c.properties} ${c.value}`)
      .join('\n')
  ].join('\n')
}

async function track(scenario: string, run: Promise<ActionRun>): Promise<ActionRun> {
  const done = await run
  runs.push({ scenario, run: done })
  timings.record(
    scenario,
    Object.values(statuses(done)).join(', ') || `exit ${String(done.main.code)}`,
    done.main.durationMs
  )
  return done
}

beforeAll(async () => {
  encrypted = await makeKey({ type: 'ed25519', passphrase: PASSPHRASE })
  ;[fleet, api] = await Promise.all([
    startFleet({
      nodes: [
        { name: 'web' },
        // autoRollback = false: the host stays on the failed generation, so the node is `failed`
        { name: 'broken', behaviour: 'activation-fails', autoRollback: false },
        { name: 'slow', hostCostMs: 2_000 }
      ],
      authorizedKeys: [encrypted.publicKey]
    }),
    startFakeGitHub()
  ])
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
  await api?.stop()
  await removeRunDirs()
  await Promise.all(scratch.map(dir => rm(dir, { recursive: true, force: true })))
  timings.print()
})

describe('runs that handle secrets', () => {
  it('deploys', async () => {
    const run = await track(
      'deploy ok',
      runOnFleet(fleet, { inputs: { targets: 'web', 'skip-checks': 'true' } })
    )
    expect(statuses(run)).toEqual({ web: 'deployed' })
    expect(run.main.durationMs).toBeLessThan(20_000)
  }, 30_000)

  it('fails a node', async () => {
    const run = await track(
      'activation fails',
      runOnFleet(fleet, { inputs: { targets: 'broken, web', 'skip-checks': 'true' } })
    )
    expect(statuses(run)).toEqual({ broken: 'failed', web: 'deployed' })
    expect(run.main.code).toBe(1)
    expect(run.main.durationMs).toBeLessThan(20_000)
  }, 30_000)

  it('rejects bad input while holding the secrets', async () => {
    const run = await track(
      'bad input',
      runOnFleet(fleet, {
        inputs: {
          targets: 'web',
          'dry-run': 'perhaps',
          parallel: 'many',
          'ssh-private-key': encrypted.privateKeyText,
          'ssh-key-passphrase': PASSPHRASE
        }
      })
    )
    expect(run.main.code).toBe(1)
    expect(run.main.stdout).toMatch(/::error::.*dry-run/)
    expect(run.main.durationMs).toBeLessThan(10_000)
  }, 30_000)

  it('deploys with an encrypted key, keeping every file 0600 in a 0700 workspace while it runs', async () => {
    const runnerTemp = await mkdtemp(join(tmpdir(), 'dra-secrets-temp-'))
    scratch.push(runnerTemp)
    const pushesBefore = (await fleet.hostLog('slow')).filter(line =>
      line.startsWith('push')
    ).length
    const modes: Record<string, string> = {}
    let workspace = ''
    const run$ = runOnFleet(fleet, {
      inputs: {
        targets: 'slow',
        'skip-checks': 'true',
        'ssh-private-key': encrypted.privateKeyText,
        'ssh-key-passphrase': PASSPHRASE
      },
      env: { RUNNER_TEMP: runnerTemp }
    })
    // While the node is being pushed (2 s on the host), the workspace is complete.
    const pushing = await waitUntil(
      async () =>
        (await fleet.hostLog('slow')).filter(line => line.startsWith('push')).length > pushesBefore,
      20_000
    )
    if (pushing) {
      const dirs = (await readdir(runnerTemp)).filter(name => name.startsWith('deploy-rs-action-'))
      if (dirs.length === 1) {
        workspace = join(runnerTemp, dirs[0])
        for (const entry of [
          '.',
          ...((await readdir(workspace, { recursive: true })) as string[])
        ]) {
          const info = await stat(join(workspace, entry))
          modes[entry] = `${info.isDirectory() ? 'dir' : 'file'} ${(info.mode & 0o777).toString(8)}`
        }
        decrypted = await readFile(join(workspace, 'keys', 'key-1'), 'utf8').catch(() => '')
      }
    }
    const run = await track('encrypted key + passphrase (slow node)', run$)
    expect(pushing).toBe(true)
    expect(statuses(run)).toEqual({ slow: 'deployed' })
    expect(run.state.workspace).toBe(workspace)
    // Checked while deploy-rs was running: the dir and its subdirs 0700, every file 0600.
    expect(modes).toMatchObject({
      '.': 'dir 700',
      keys: 'dir 700',
      'keys/key-1': 'file 600',
      known_hosts: 'file 600',
      ssh_config: 'file 600',
      logs: 'dir 700',
      'logs/001-slow.log': 'file 600'
    })
    const loose = Object.entries(modes).filter(
      ([, mode]) => mode !== 'dir 700' && mode !== 'file 600'
    )
    expect(loose).toEqual([])
    // The workspace holds the key decrypted (ssh cannot prompt), itself a secret.
    expect(keyLines(decrypted).length).toBeGreaterThan(3)
    expect(decrypted).not.toBe(encrypted.privateKeyText)
    // The passphrase helper is gone once the key is decrypted.
    expect(Object.keys(modes)).not.toContain('askpass')
    // After post: nothing of it left, ~/.ssh never touched.
    expect(existsSync(workspace)).toBe(false)
    expect(await leftovers(runnerTemp)).toEqual([])
    expect(existsSync(join(run.home, '.ssh'))).toBe(false)
    expect(run.main.durationMs).toBeLessThan(30_000)
  }, 40_000)

  it('dry-runs a pull request and comments on it', async () => {
    const run = await track(
      'dry run + PR comment',
      runOnFleet(fleet, {
        inputs: { targets: 'web, broken', 'pr-comment': 'true', 'skip-checks': 'true' },
        eventName: 'pull_request',
        eventPayload: PR_PAYLOAD,
        env: { GITHUB_API_URL: api.url }
      })
    )
    expect(statuses(run)).toEqual({ web: 'dry-run', broken: 'dry-run' })
    const comments = api.comments('octo', 'homelab', PR)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toContain('web')
    expect(run.main.durationMs).toBeLessThan(20_000)
  }, 30_000)
})

describe('what was printed, written and posted', () => {
  it('shows no line of a private key, no passphrase and no token anywhere', () => {
    expect(runs.length).toBe(5)
    // Two unencrypted-size keys, one decrypted copy, the passphrase and the token.
    expect(secrets().length).toBeGreaterThanOrEqual(3 * 4 + 2)
    const places = [
      ...runs.map(({ scenario, run }) => ({ place: scenario, text: readable(run) })),
      {
        place: 'PR comments',
        text: api
          .comments('octo', 'homelab', PR)
          .map(c => c.body)
          .join('\n')
      },
      // Every request body the action sent to GitHub (the token belongs only in the authorization header).
      {
        place: 'GitHub API request bodies',
        text: api.requests.map(r => JSON.stringify(r.body)).join('\n')
      }
    ]
    const found: string[] = []
    for (const { name, value } of secrets()) {
      for (const { place, text } of places)
        if (text.includes(value)) found.push(`${name} in ${place}`)
    }
    expect(found).toEqual([])
  })

  it('announced every secret to the runner with ::add-mask::', () => {
    const masked = (run: ActionRun): Set<string> =>
      new Set(run.commands.filter(c => c.command === 'add-mask').map(c => c.value))
    const byScenario = new Map(runs.map(({ scenario, run }) => [scenario, masked(run)]))
    const missing: string[] = []
    const expectMasked = (scenario: string, wanted: { name: string; value: string }[]): void => {
      for (const { name, value } of wanted)
        if (!byScenario.get(scenario)?.has(value)) missing.push(`${name} in ${scenario}`)
    }
    const client = keyLines(fleet.clientKey.privateKeyText).map(value => ({
      name: 'client key line',
      value
    }))
    const enc = keyLines(encrypted.privateKeyText).map(value => ({
      name: 'encrypted key line',
      value
    }))
    const dec = keyLines(decrypted).map(value => ({ name: 'decrypted key line', value }))
    const token = { name: 'github token', value: fleetInputs(fleet)['github-token'] }
    const passphrase = { name: 'passphrase', value: PASSPHRASE }
    expectMasked('deploy ok', [...client, token])
    expectMasked('activation fails', [...client, token])
    expectMasked('bad input', [...enc, passphrase, token])
    expectMasked('encrypted key + passphrase (slow node)', [...enc, ...dec, passphrase, token])
    expectMasked('dry run + PR comment', [...client, token])
    expect(missing).toEqual([])
  })
})
