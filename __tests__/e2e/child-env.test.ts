/**
 * No child process sees the action's secrets: a run with every secret input
 * set (key, passphrase, token) and the runner's tokens in the environment,
 * with nix, ssh-keyscan, ssh-keygen and ssh wrapped on PATH by environment
 * probes and the deploy-rs input pointing at a probe that runs the stand-in
 * (which starts ssh: a grandchild, probed too). No probe saw the name or the
 * value of any secret; only ssh-keygen -p got the passphrase, under the
 * askpass variable meant for it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeKey, startFleet, type Fleet, type KeyPair } from '../../test-support/fleet/index.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { fleetInputs, runOnFleet, statuses } from '../../test-support/action/fleet-run.js'
import { writeProbeDir, type EnvRecord, type ProbeDir } from '../../test-support/env-probe/index.js'

const PASSPHRASE = 'correct horse-battery staple'
/** What a runner puts in a job's environment when the workflow grants id-token: write. */
const RUNNER_SECRETS: Record<string, string> = {
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.oidc-request-token',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://pipelines.example/oidc/request?api-version=2.0',
  ACTIONS_RUNTIME_TOKEN: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.runtime-token',
  GITHUB_TOKEN: 'ghs_workflowEnvTokenValue0123456789'
}
/** The askpass variable of src/commands/ssh-keygen.ts. */
const ASKPASS_VARIABLE = 'DEPLOY_RS_ACTION_KEY_PASSPHRASE'

let fleet: Fleet
let key: KeyPair
let probes: ProbeDir
let run: ActionRun
let records: EnvRecord[]

function keyLines(keyText: string): string[] {
  return keyText
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => /^[A-Za-z0-9+/=]{16,}$/.test(line))
}

beforeAll(async () => {
  key = await makeKey({ type: 'ed25519', passphrase: PASSPHRASE })
  ;[fleet, probes] = await Promise.all([
    startFleet({ nodes: [{ name: 'web' }], authorizedKeys: [key.publicKey] }),
    writeProbeDir(['nix', 'ssh', 'ssh-keyscan', 'ssh-keygen', 'deploy'])
  ])
  run = await runOnFleet(fleet, {
    inputs: {
      targets: 'web',
      'ssh-private-key': key.privateKeyText,
      'ssh-key-passphrase': PASSPHRASE,
      'deploy-rs': `${probes.dir}/deploy`
    },
    env: { ...RUNNER_SECRETS, PATH: `${probes.dir}:${fleet.binDir}:${process.env.PATH}` }
  })
  records = await probes.records()
}, 120_000)

afterAll(async () => {
  await fleet?.stop()
  await probes?.remove()
  await removeRunDirs()
})

/** Secret values, each with what it is. */
function secretValues(): { what: string; value: string }[] {
  return [
    ...keyLines(key.privateKeyText).map((value, i) => ({ what: `key line ${i + 1}`, value })),
    { what: 'passphrase', value: PASSPHRASE },
    { what: 'github-token input', value: fleetInputs(fleet)['github-token'] },
    ...Object.entries(RUNNER_SECRETS)
      .filter(([name]) => name !== 'ACTIONS_ID_TOKEN_REQUEST_URL')
      .map(([name, value]) => ({ what: name, value }))
  ]
}

/** The environment entries of a record that carry a secret name or value. */
function leaks(record: EnvRecord): string[] {
  const found: string[] = []
  for (const entry of record.environ) {
    const name = entry.slice(0, entry.indexOf('='))
    if (/^INPUT_/i.test(name) || Object.hasOwn(RUNNER_SECRETS, name)) found.push(`name ${name}`)
    for (const { what, value } of secretValues()) {
      if (!entry.includes(value)) continue
      // The one deliberate hand-over: ssh-keygen -p reads the passphrase through askpass.
      const handedOver =
        what === 'passphrase' &&
        record.tool === 'ssh-keygen' &&
        record.argv.includes('-p') &&
        entry === `${ASKPASS_VARIABLE}=${PASSPHRASE}`
      if (!handedOver) found.push(`${what} in ${name}`)
    }
  }
  return found
}

describe('child environments', () => {
  it('deployed with every probe in the path of the run', () => {
    expect(statuses(run)).toEqual({ web: 'deployed' })
    const tools = new Set(records.map(r => r.tool))
    // Children of the action, and ssh started by the deploy-rs stand-in (a grandchild).
    for (const tool of ['nix', 'ssh-keyscan', 'ssh-keygen', 'deploy', 'ssh'])
      expect(tools).toContain(tool)
    const deploy = records.find(r => r.tool === 'deploy')
    const ssh = records.filter(r => r.tool === 'ssh')
    expect(deploy?.argv.join(' ')).toContain(fleet.flakeDir)
    expect(ssh.length).toBeGreaterThan(0)
  })

  it('gave no child any input, token, key line or passphrase', () => {
    const found = records.map(r => ({ tool: r.tool, argv: r.argv.slice(0, 3), leaks: leaks(r) }))
    expect(found.filter(r => r.leaks.length > 0)).toEqual([])
  })

  it('handed the passphrase to ssh-keygen -p only, under the askpass variable', () => {
    const unlock = records.filter(r => r.tool === 'ssh-keygen' && r.argv.includes('-p'))
    expect(unlock).toHaveLength(1)
    expect(unlock[0].environ).toContain(`${ASKPASS_VARIABLE}=${PASSPHRASE}`)
    const others = records.filter(r => r !== unlock[0])
    expect(others.filter(r => r.environ.some(entry => entry.includes(PASSPHRASE)))).toEqual([])
  })

  it('still gives children the environment they need', () => {
    for (const record of records) {
      const names = record.environ.map(entry => entry.slice(0, entry.indexOf('=')))
      expect(names).toEqual(expect.arrayContaining(['PATH', 'HOME', 'RUNNER_TEMP']))
    }
  })
})
