/**
 * The remote commands of src/packages/remote.ts, run by a real /bin/sh here
 * (the same text ssh hands to a host's shell), with the environment and
 * the commands (`id`, `nix`, `nix-store`) a test sets up.
 */
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals'
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  closureListingScript,
  currentGenerationScript,
  newMarker,
  parseClosureListings,
  parseCurrentGenerations,
  type ProfileSettings
} from '../../../src/packages/remote.js'

const execFileAsync = promisify(execFile)

const HASH_A = '0123456789abcdfghijklmnpqrsvwxyz'
const HASH_B = 'zyxwvsrqpnmlkjihgfdcba9876543210'
const CURRENT = `/nix/store/${HASH_A}-nixos-system-web-24.05`
const NEXT = `/nix/store/${HASH_B}-nixos-system-web-24.11`

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'remote-packages-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs a script as ssh would hand it to the host's shell, with only the given env. */
async function runScript(script: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await execFileAsync('/bin/sh', ['-c', script], {
    env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, ...env }
  })
  return stdout
}

/** A command on PATH for the script, e.g. a fake `id` or `nix`. */
async function fakeCommand(name: string, body: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true })
  await writeFile(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`)
  await chmod(join(dir, 'bin', name), 0o755)
}

/** A profile as nix-env leaves it: PROFILE → PROFILE-1-link → target. */
async function profileAt(path: string, target: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true })
  await symlink(target, `${path}-1-link`)
  await symlink(`${path.slice(path.lastIndexOf('/') + 1)}-1-link`, path)
}

/** A store path made locally: readlink -f resolves it, wherever "the store" is. */
async function storeEntry(path: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, '')
  return path
}

async function currentGenerations(profiles: ProfileSettings[], env: Record<string, string>) {
  const marker = newMarker()
  const stdout = await runScript(currentGenerationScript(profiles, marker), env)
  return parseCurrentGenerations(stdout, profiles, marker)
}

describe('the profile path, resolved on the host as activate-rs does', () => {
  it("root's system and other profiles live in NIX_STATE_DIR, profilePath wins", async () => {
    const state = join(dir, 'state')
    const store = join(dir, 'nix', 'store')
    const system = await storeEntry(join(store, `${HASH_A}-nixos-system-web-24.05`))
    const backup = await storeEntry(join(store, `${HASH_B}-backup-1.0`))
    await profileAt(join(state, 'profiles', 'system'), system)
    await profileAt(join(state, 'profiles', 'per-user', 'root', 'backup'), backup)
    const own = join(dir, 'own profiles', "it's here")
    await profileAt(own, system)

    const found = await currentGenerations(
      [
        { name: 'system', profilePath: null, user: 'root' },
        { name: 'backup', profilePath: null, user: 'root' },
        { name: 'system', profilePath: own, user: 'root' }
      ],
      { NIX_STATE_DIR: state, HOME: dir }
    )
    expect(found).toEqual([
      {
        profile: 'system',
        profilePath: join(state, 'profiles', 'system'),
        storePath: system,
        reason: null
      },
      {
        profile: 'backup',
        profilePath: join(state, 'profiles', 'per-user', 'root', 'backup'),
        storePath: backup,
        reason: null
      },
      { profile: 'system', profilePath: own, storePath: system, reason: null }
    ])
  })

  it('NIX_STATE_DIR defaults to /nix/var/nix', async () => {
    const [found] = await currentGenerations(
      [{ name: 'system', profilePath: null, user: 'root' }],
      {
        HOME: dir
      }
    )
    expect(found?.profilePath).toBe('/nix/var/nix/profiles/system')
  })

  it("another user: the per-user directory if it exists, else the user's XDG state dir", async () => {
    const state = join(dir, 'state')
    const store = join(dir, 'nix', 'store')
    const app = await storeEntry(join(store, `${HASH_A}-app-2.1`))
    await profileAt(join(state, 'profiles', 'per-user', 'alice', 'app'), app)
    await profileAt(join(dir, 'xdg', 'nix', 'profiles', 'app'), app)
    await profileAt(join(dir, 'home', '.local', 'state', 'nix', 'profiles', 'app'), app)
    const alice: ProfileSettings = { name: 'app', profilePath: null, user: 'alice' }
    const bob: ProfileSettings = { name: 'app', profilePath: null, user: 'bob' }

    await fakeCommand('id', 'echo alice')
    expect((await currentGenerations([alice], { NIX_STATE_DIR: state, HOME: dir }))[0]).toEqual({
      profile: 'app',
      profilePath: join(state, 'profiles', 'per-user', 'alice', 'app'),
      storePath: app,
      reason: null
    })
    await fakeCommand('id', 'echo bob')
    const home = join(dir, 'home')
    expect(
      (await currentGenerations([bob], { NIX_STATE_DIR: state, HOME: home }))[0]?.profilePath
    ).toBe(join(home, '.local', 'state', 'nix', 'profiles', 'app'))
    expect(
      (
        await currentGenerations([bob], {
          NIX_STATE_DIR: state,
          HOME: home,
          XDG_STATE_HOME: join(dir, 'xdg')
        })
      )[0]
    ).toEqual({
      profile: 'app',
      profilePath: join(dir, 'xdg', 'nix', 'profiles', 'app'),
      storePath: app,
      reason: null
    })
  })

  it("a user other than the ssh user: that user's home from the password database", async () => {
    await fakeCommand('id', 'echo someone-else')
    await fakeCommand(
      'getent',
      `[ "$1 $2" = "passwd carol" ] && echo 'carol:x:1001:1001::${dir}/carol:/bin/sh'`
    )
    const [found] = await currentGenerations([{ name: 'app', profilePath: null, user: 'carol' }], {
      NIX_STATE_DIR: join(dir, 'state'),
      HOME: dir,
      XDG_STATE_HOME: join(dir, 'not-carols')
    })
    expect(found?.profilePath).toBe(join(dir, 'carol', '.local', 'state', 'nix', 'profiles', 'app'))
    expect(found?.storePath).toBeNull()
  })

  it('a profile that does not exist yet (first deploy) has no current generation', async () => {
    const [found] = await currentGenerations(
      [{ name: 'system', profilePath: join(dir, 'nothing', 'system'), user: 'root' }],
      { HOME: dir }
    )
    expect(found).toEqual({
      profile: 'system',
      profilePath: join(dir, 'nothing', 'system'),
      storePath: null,
      reason: `no generation at ${join(dir, 'nothing', 'system')}`
    })
  })

  it('a profile pointing outside a store is not read as a generation', async () => {
    const target = join(dir, 'not-a-store-path')
    await writeFile(target, '')
    await profileAt(join(dir, 'p', 'system'), target)
    const [found] = await currentGenerations(
      [{ name: 'system', profilePath: join(dir, 'p', 'system'), user: 'root' }],
      { HOME: dir }
    )
    expect(found?.storePath).toBeNull()
    expect(found?.reason).toContain('not a store path')
  })

  it('flake values are quoted: names and paths with quotes, $(...) and blanks run nothing', async () => {
    const evil = `x'; touch ${join(dir, 'pwned')}; echo '$(touch ${join(dir, 'pwned2')})`
    const found = await currentGenerations(
      [
        { name: evil, profilePath: null, user: 'root' },
        { name: 'system', profilePath: evil, user: 'root' },
        { name: evil, profilePath: null, user: evil }
      ],
      { NIX_STATE_DIR: join(dir, 'state'), HOME: dir }
    )
    await expect(access(join(dir, 'pwned'))).rejects.toThrow()
    await expect(access(join(dir, 'pwned2'))).rejects.toThrow()
    expect(found[0]?.profilePath).toBe(join(dir, 'state', 'profiles', 'per-user', 'root', evil))
    expect(found.map(f => f.storePath)).toEqual([null, null, null])
  })

  it('a symlink target cannot forge the answer of another profile', async () => {
    // The target holds a newline and a frame line; it cannot know the marker.
    const store = join(dir, 'nix', 'store')
    const real = await storeEntry(join(store, `${HASH_A}-good-1.0`))
    const marker = newMarker()
    const forged = `${join(dir, 'x')}\n@deploy-rs-action:${'0'.repeat(32)} current 1 ${real}`
    await storeEntry(forged)
    await profileAt(join(dir, 'a', 'system'), forged)
    const profiles: ProfileSettings[] = [
      { name: 'system', profilePath: join(dir, 'a', 'system'), user: 'root' },
      { name: 'other', profilePath: join(dir, 'b', 'other'), user: 'root' }
    ]
    const stdout = await runScript(currentGenerationScript(profiles, marker), { HOME: dir })
    const found = parseCurrentGenerations(stdout, profiles, marker)
    expect(found.map(f => f.storePath)).toEqual([null, null])
  })

  it('a target whose first line is a store path is not taken for it', async () => {
    const store = join(dir, 'nix', 'store')
    const tricky = await storeEntry(join(store, `${HASH_A}-good-1.0\nrest`))
    await profileAt(join(dir, 'a', 'system'), tricky)
    const [found] = await currentGenerations(
      [{ name: 'system', profilePath: join(dir, 'a', 'system'), user: 'root' }],
      { HOME: dir }
    )
    expect(found?.storePath).toBeNull()
    expect(found?.reason).toContain('newline')
  })

  it('the answer to a frame nobody printed is "did not answer"', () => {
    const marker = newMarker()
    const [found] = parseCurrentGenerations(
      'something else\n',
      [{ name: 'system', profilePath: null, user: 'root' }],
      marker
    )
    expect(found).toEqual({
      profile: 'system',
      profilePath: null,
      storePath: null,
      reason: 'the host did not answer'
    })
  })
})

describe('closure listings', () => {
  const lines = (paths: [string, number][]) =>
    paths.map(([path, size]) => `${path}\t${size}`).join('\n')

  it('sizes from nix path-info; without it, nix-store --query --requisites', async () => {
    const dep = `/nix/store/${HASH_A}-openssl-3.0.13`
    await fakeCommand(
      'nix',
      `case "$*" in
  *"${CURRENT}") printf '%s\\n' '${lines([
    [CURRENT, 100],
    [dep, 50]
  ])}' ;;
  *) echo "error: path '$6' is not valid" >&2; exit 1 ;;
esac`
    )
    await fakeCommand(
      'nix-store',
      `[ "$1 $2" = "--query --requisites" ] && [ "$3" = "${NEXT}" ] && printf '%s\\n%s\\n' '${dep}' '${NEXT}'`
    )
    const marker = newMarker()
    const stdout = await runScript(closureListingScript([CURRENT, NEXT], marker), { HOME: dir })
    const [current, next] = parseClosureListings(stdout, [CURRENT, NEXT], marker)
    expect(current).toEqual({
      storePath: CURRENT,
      listing: {
        paths: [CURRENT, dep],
        narSizes: new Map([
          [CURRENT, 100],
          [dep, 50]
        ])
      },
      error: null
    })
    expect(next).toEqual({
      storePath: NEXT,
      listing: { paths: [dep, NEXT], narSizes: null },
      error: null
    })
  })

  it('asks nix with the nix-command feature, one top-level path per command', async () => {
    await fakeCommand('nix', `printf '%s\\n' "$*" > ${join(dir, 'argv')}; exit 1`)
    await fakeCommand('nix-store', 'exit 1')
    const marker = newMarker()
    await runScript(closureListingScript([CURRENT], marker), { HOME: dir })
    const { stdout } = await execFileAsync('cat', [join(dir, 'argv')])
    expect(stdout.trim()).toBe(
      `--extra-experimental-features nix-command path-info --recursive --size ${CURRENT}`
    )
  })

  it('neither command works (no nix on the host): an error per path, saying why', async () => {
    const marker = newMarker()
    const stdout = await runScript(closureListingScript([CURRENT], marker), {
      HOME: dir,
      PATH: '/nonexistent'
    }).catch(() => '')
    const [answer] = parseClosureListings(stdout, [CURRENT], marker)
    expect(answer).toEqual({
      storePath: CURRENT,
      listing: null,
      error: 'nix path-info exited with 127; nix-store --query --requisites exited with 127'
    })
  })

  it('output that is not a listing is an error, not a closure', () => {
    const marker = newMarker()
    const stdout = [
      `${marker} begin 0 path-info`,
      'warning: something odd',
      `${marker} end 0 path-info 0`
    ].join('\n')
    const [answer] = parseClosureListings(stdout, [CURRENT], marker)
    expect(answer?.listing).toBeNull()
    expect(answer?.error).toMatch(/^nix path-info: not a store path and size/)
  })

  it('frames with another marker are content, never frames', () => {
    const marker = newMarker()
    const other = newMarker()
    const stdout = [
      `${other} begin 0 path-info`,
      `${CURRENT}\t1`,
      `${other} end 0 path-info 0`
    ].join('\n')
    expect(parseClosureListings(stdout, [CURRENT], marker)[0]?.error).toBe(
      'the host did not answer'
    )
  })

  it('only store paths go into the command, quoted', () => {
    expect(() => closureListingScript([`${CURRENT}'; rm -rf /`], newMarker())).toThrow(
      /not a store path/
    )
    expect(() => closureListingScript(['/tmp/x'], newMarker())).toThrow(/not a store path/)
    const script = closureListingScript([CURRENT, NEXT], newMarker())
    expect(script).toContain(`list 0 '${CURRENT}'`)
    expect(script).toContain(`list 1 '${NEXT}'`)
  })

  it('refuses a marker it did not make', () => {
    expect(() => closureListingScript([CURRENT], "x'; reboot; '")).toThrow(/marker/)
    expect(() => currentGenerationScript([], 'x')).toThrow(/marker/)
  })
})
