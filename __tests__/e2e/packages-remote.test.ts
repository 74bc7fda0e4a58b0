/**
 * The remote commands of src/packages/remote.ts against real sandbox hosts
 * (sshd, the shared Nix store, real profile symlinks), and the sandbox's
 * profiles themselves: each node's profilePath holds its current generation,
 * and the stand-in's activation moves it as `nix-env -p PROFILE --set` does.
 * The commands go over a plain test-only ssh call here; the action's own
 * stages run them over its verified connection.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readlink } from 'node:fs/promises'
import { startFleet, type Fleet, type GenerationSpec } from '../../test-support/fleet/index.js'
import { makeLargeGeneration } from '../../test-support/fleet/closures.js'
import { diffClosures } from '../../src/packages/closure-diff.js'
import {
  closureListingScript,
  currentGenerationScript,
  newMarker,
  parseClosureListings,
  parseCurrentGenerations,
  type ProfileSettings
} from '../../src/packages/remote.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Run> {
  const [file, ...args] = argv
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const CURRENT: Omit<GenerationSpec, 'name'> = {
  packages: { linux: '6.6.30', openssl: '3.0.13', nginx: '1.26.1', curl: '8.7.1' },
  extras: ['etc', 'unit-nginx.service'],
  references: { 'nginx-1.26.1': ['openssl-3.0.13'], 'unit-nginx.service': ['nginx-1.26.1'] },
  payloadBytes: { 'linux-6.6.30': 3000 }
}
const NEXT: Omit<GenerationSpec, 'name'> = {
  packages: { linux: '6.6.31', openssl: '3.0.14', nginx: '1.24.0', jq: '1.7.1' },
  extras: ['etc', 'unit-nginx.service'],
  references: { 'nginx-1.24.0': ['openssl-3.0.14'], 'unit-nginx.service': ['nginx-1.24.0'] },
  payloadBytes: { 'linux-6.6.31': 5000 }
}

describe('packages: remote commands on sandbox hosts', () => {
  let fleet: Fleet
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    fleet = await startFleet({
      nodes: [
        { name: 'web', generations: { current: CURRENT, next: NEXT } },
        { name: 'fresh', generations: { current: null, next: NEXT } },
        { name: 'plain', profilePath: false },
        { name: 'broken', behaviour: 'activation-fails' },
        { name: 'broken-first', behaviour: 'activation-fails', generations: { current: null } }
      ]
    })
    env = { ...process.env, ...fleet.env, PATH: `${fleet.binDir}:${process.env.PATH ?? ''}` }
  }, 30_000)

  afterAll(async () => {
    await fleet?.stop()
  })

  /** One remote command over ssh, strict host key, as the test's own minimal client. */
  const onHost = (node: string, command: string): Promise<Run> =>
    run(
      ['ssh', ...fleet.sshOptsFor(node), `${fleet.loginUser}@${fleet.host(node).address}`, command],
      env
    )

  const deploy = (node: string): Promise<Run> =>
    run(
      [
        ...fleet.standInCommand,
        '--skip-checks',
        `--ssh-opts=${fleet.sshOptsFor(node).join(' ')}`,
        `${fleet.flakeDir}#${node}`
      ],
      env
    )

  const profileOf = (node: string): ProfileSettings => ({
    name: 'system',
    profilePath: fleet.host(node).profiles.system!.profilePath,
    user: 'root'
  })

  async function currentOn(node: string) {
    const marker = newMarker()
    const profiles = [profileOf(node)]
    const answer = await onHost(node, currentGenerationScript(profiles, marker))
    expect(answer.code).toBe(0)
    return parseCurrentGenerations(answer.stdout, profiles, marker)[0]!
  }

  it('gives each node a profilePath holding its current generation, a real store path', async () => {
    const web = fleet.host('web').profiles.system!
    expect(web.profilePath).toBe(`${fleet.host('web').stateDir}/profiles/system`)
    expect(await readlink(web.location)).toBe('system-1-link')
    expect(await fleet.currentGeneration('web')).toBe(web.current!.topLevel)
    expect(web.current!.topLevel).toMatch(/^\/nix\/store\/[0-9a-z]{32}-web-system$/)
    expect(web.next.topLevel).toMatch(/^\/nix\/store\/[0-9a-z]{32}-web-system$/)
    expect(web.next.topLevel).not.toBe(web.current!.topLevel)
    expect(await fleet.currentGeneration('fresh')).toBeNull()
    expect(fleet.host('plain').profiles.system!.profilePath).toBeNull()
    const flake = await run(['cat', `${fleet.flakeDir}/flake.nix`], env)
    expect(flake.stdout).toContain(
      `path = "${web.next.topLevel}"; profilePath = "${web.location}";`
    )
    expect(flake.stdout).not.toContain(fleet.host('plain').profiles.system!.location)
  })

  it('reads the current generation on the host before the deploy', async () => {
    expect(await currentOn('web')).toEqual({
      profile: 'system',
      profilePath: fleet.host('web').profiles.system!.location,
      storePath: fleet.host('web').profiles.system!.current!.topLevel,
      reason: null
    })
    const fresh = fleet.host('fresh').profiles.system!.location
    expect(await currentOn('fresh')).toEqual({
      profile: 'system',
      profilePath: fresh,
      storePath: null,
      reason: `no generation at ${fresh}`
    })
    // Without profilePath activate-rs would use the Nix state dir; the sandbox has none there.
    const plain = await currentOn('plain')
    expect(plain.profilePath).toBe('/nix/var/nix/profiles/system')
  }, 30_000)

  it('lists both closures on the host after the push, and they diff as expected', async () => {
    const web = fleet.host('web').profiles.system!
    const paths = [web.current!.topLevel, web.next.topLevel]
    const marker = newMarker()
    const answer = await onHost('web', closureListingScript(paths, marker))
    expect(answer.code).toBe(0)
    const [current, next] = parseClosureListings(answer.stdout, paths, marker)
    expect(current?.error).toBeNull()
    expect(next?.error).toBeNull()
    expect(current?.listing?.narSizes).not.toBeNull()
    const diff = diffClosures(current!.listing!, next!.listing!)
    expect(diff).toMatchObject({
      upgraded: [
        { name: 'linux', from: '6.6.30', to: '6.6.31' },
        { name: 'openssl', from: '3.0.13', to: '3.0.14' }
      ],
      downgraded: [{ name: 'nginx', from: '1.26.1', to: '1.24.0' }],
      added: [{ name: 'jq', version: '1.7.1' }],
      removed: [{ name: 'curl', version: '8.7.1' }]
    })
    expect(diff.sizeDelta).toBeGreaterThan(1000)
  }, 30_000)

  it('lists two 5,000-path closures in one command', async () => {
    const count = 5000
    const paths = await Promise.all([
      makeLargeGeneration({ name: 'big-system-a', count, major: 1 }),
      makeLargeGeneration({ name: 'big-system-b', count, major: 2 })
    ])
    const marker = newMarker()
    const answer = await onHost('web', closureListingScript(paths, marker))
    expect(answer.code).toBe(0)
    const [current, next] = parseClosureListings(answer.stdout, paths, marker)
    expect(current?.listing?.paths).toHaveLength(count + 1)
    expect(next?.listing?.paths).toHaveLength(count + 1)
    expect(diffClosures(current!.listing!, next!.listing!).upgraded).toHaveLength(count / 10)
  }, 120_000)

  it('the stand-in activation moves the profile like nix-env --set', async () => {
    const web = fleet.host('web').profiles.system!
    expect((await deploy('web')).code).toBe(0)
    expect(await readlink(web.location)).toBe('system-2-link')
    expect(await fleet.currentGeneration('web')).toBe(web.next.topLevel)
    expect((await currentOn('web')).storePath).toBe(web.next.topLevel)

    const fresh = fleet.host('fresh').profiles.system!
    expect((await deploy('fresh')).code).toBe(0)
    expect(await readlink(fresh.location)).toBe('system-1-link')
    expect(await fleet.currentGeneration('fresh')).toBe(fresh.next.topLevel)
  }, 30_000)

  it('a failed activation rolls the profile back and deletes the new generation', async () => {
    const broken = fleet.host('broken').profiles.system!
    const result = await deploy('broken')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('switching profile from version 2 to 1')
    expect(result.stderr).toContain('Removing generation by ID 2')
    expect(await readlink(broken.location)).toBe('system-1-link')
    expect(await fleet.currentGeneration('broken')).toBe(broken.current!.topLevel)
    await expect(readlink(`${broken.location}-2-link`)).rejects.toThrow()
  }, 30_000)

  it('on a first deploy there is nothing to roll back to', async () => {
    const first = fleet.host('broken-first').profiles.system!
    const result = await deploy('broken-first')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('error: no generation older than the current (1) exists')
    expect(result.stderr).toContain(
      'There was an error de-activating after an error was encountered: The rollback resulted in a bad exit code: Some(1)'
    )
    expect(await fleet.hostLog('broken-first')).not.toContain('rollback system')
    expect(await fleet.currentGeneration('broken-first')).toBe(first.next.topLevel)
  }, 30_000)
})
