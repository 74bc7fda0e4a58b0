/**
 * A controllable `systemctl` and `journalctl` for the sessions of every
 * sandbox host. The hosts run no systemd; the health check only needs what
 * these two commands print, so each host gets stand-ins first on the PATH
 * that its sshd gives sessions (SetEnv, see sshd-host.ts), and a PATH without
 * the machine's own /usr/bin/systemctl, so a host can also have none.
 *
 * What they print follows the host's state: BEFORE an activation (the
 * host's profiles — the nix-env symlinks in FLEET_HOST_DIR/profiles and
 * stand-in-profiles, profiles.ts — point at the generations they did when
 * the state was set) and AFTER one (a profile moved: the stand-in's
 * activation really ran on the host). A rollback moves it back, and the host
 * is "before" again, as a real rolled-back host is.
 *
 * Files, in FLEET_HOST_DIR/systemd: failed-before, failed-after (a unit per
 * line), journal (`unit<TAB>line`), starting-seconds, hang, baseline (the
 * sum of the profiles' current generation numbers when the state was set),
 * calls (every invocation).
 */
import { readdirSync } from 'node:fs'
import { chmod, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** A host's systemd as the health check sees it. Default: healthy (nothing failed). */
export interface FakeSystemdSpec {
  /** Units that have failed before any activation (they stay failed after it). */
  failedBefore?: string[]
  /** Units failed after an activation; default failedBefore (the switch changes nothing). */
  failedAfter?: string[]
  /** After an activation, `systemctl is-system-running` says `starting` for this long (s). */
  startingSeconds?: number
  /** After an activation, every systemctl call hangs (bounded: 120 s). */
  hang?: boolean
  /** The host has no systemctl and no journalctl at all. */
  absent?: boolean
  /** Journal lines per unit; failed units without any get a typical failure journal. */
  journal?: Record<string, string[]>
}

/** The machine dirs a session may use: /usr/bin only through the shadow (without systemd's tools). */
const SYSTEM_DIRS_AFTER = ['/usr/sbin'] // /sbin and /bin are links to /usr here
const HIDDEN = new Set(['systemctl', 'journalctl'])

const SYSTEMCTL = `#!/bin/sh
# The sandbox fleet's systemctl (test-support/fleet/fake-systemd.ts).
S="\${FLEET_HOST_DIR:?not a sandbox fleet host}/systemd"
printf '%s\\n' "systemctl $*" >> "$S/calls"
# the profiles (PROFILE -> PROFILE-N-link, as nix-env leaves them): the sum of their N
profiles() {
  for p in "$FLEET_HOST_DIR"/profiles/* "$FLEET_HOST_DIR"/stand-in-profiles/*; do
    [ -L "$p" ] || continue
    case "$p" in *-link) continue ;; esac
    printf '%s\\n' "$p"
  done
}
sum=0
for p in $(profiles); do
  n=$(readlink "$p"); n=\${n%-link}; n=\${n##*-}
  case "$n" in '' | *[!0-9]*) continue ;; esac
  sum=$((sum + n))
done
if [ "$sum" = "$(cat "$S/baseline" 2>/dev/null || echo 0)" ]; then phase=before; else phase=after; fi
if [ "$phase" = after ] && [ -e "$S/hang" ]; then
  i=0
  while [ "$i" -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
  exit 1
fi
case "\${1-}" in
  is-system-running)
    if [ "$phase" = after ] && [ -s "$S/starting-seconds" ]; then
      since=$(for p in $(profiles); do stat -c %Y "$p"; done | sort -n | tail -n 1)
      if [ $(( $(date +%s) - since )) -lt "$(cat "$S/starting-seconds")" ]; then echo starting; exit 1; fi
    fi
    if [ -s "$S/failed-$phase" ]; then echo degraded; exit 1; fi
    echo running
    ;;
  list-units)
    case " $* " in *" --failed "*) ;; *) echo "fake systemctl: only list-units --failed" >&2; exit 1 ;; esac
    while IFS= read -r u; do
      [ -n "$u" ] && printf '%s loaded failed failed %s\\n' "$u" "Fake unit $u"
    done < "$S/failed-$phase"
    ;;
  *)
    echo "fake systemctl: \${1-} is not emulated" >&2
    exit 1
    ;;
esac
`

const JOURNALCTL = `#!/bin/sh
# The sandbox fleet's journalctl (test-support/fleet/fake-systemd.ts): -u UNIT -n N only.
S="\${FLEET_HOST_DIR:?not a sandbox fleet host}/systemd"
printf '%s\\n' "journalctl $*" >> "$S/calls"
unit=
n=10
while [ $# -gt 0 ]; do
  case "$1" in
    -u) unit=$2; shift ;;
    -n) n=$2; shift ;;
    --no-pager) ;;
    *) echo "fake journalctl: $1 is not emulated" >&2; exit 1 ;;
  esac
  shift
done
lines=$(awk -F '\\t' -v u="$unit" '$1 == u { sub(/^[^\\t]*\\t/, ""); print }' "$S/journal" | tail -n "$n")
if [ -z "$lines" ]; then echo '-- No entries --'; else printf '%s\\n' "$lines"; fi
`

/**
 * Writes the two stand-ins and a shadow of /usr/bin without systemctl and
 * journalctl (symlinks); returns where they are.
 */
export async function writeFakeSystemdTools(
  fleetDir: string
): Promise<{ toolsDir: string; usrBinShadow: string }> {
  const toolsDir = join(fleetDir, 'systemd-tools')
  const usrBinShadow = join(fleetDir, 'usr-bin-shadow')
  await mkdir(toolsDir, { recursive: true })
  await mkdir(usrBinShadow, { recursive: true })
  await writeFile(join(toolsDir, 'systemctl'), SYSTEMCTL, { mode: 0o755 })
  await writeFile(join(toolsDir, 'journalctl'), JOURNALCTL, { mode: 0o755 })
  await Promise.all(
    readdirSync('/usr/bin')
      .filter(name => !HIDDEN.has(name))
      .map(name => symlink(join('/usr/bin', name), join(usrBinShadow, name)))
  )
  return { toolsDir, usrBinShadow }
}

/** The PATH of a host's sessions: its own bin dir (the stand-ins, or nothing), then the system's. */
export function sessionPath(hostBinDir: string, usrBinShadow: string): string {
  return [hostBinDir, '/usr/local/bin', usrBinShadow, ...SYSTEM_DIRS_AFTER].join(':')
}

/** The sum of a host's profiles' current generation numbers, as the stand-in systemctl computes it. */
async function generationSum(stateDir: string): Promise<number> {
  let sum = 0
  for (const kind of ['profiles', 'stand-in-profiles']) {
    const dir = join(stateDir, kind)
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith('-link')) continue
      const target = await readlink(join(dir, name)).catch(() => '')
      const n = /-(\d+)-link$/.exec(target)?.[1]
      if (n !== undefined) sum += Number(n)
    }
  }
  return sum
}

function defaultJournal(unit: string): string[] {
  const name = unit.replace(/\.[a-z]+$/, '')
  return [
    `Dec 02 06:00:01 host systemd[1]: Starting ${unit}...`,
    `Dec 02 06:00:01 host ${name}[4242]: ${name}: configuration error: unknown directive "lisen" in /etc/${name}/${name}.conf:12`,
    `Dec 02 06:00:01 host systemd[1]: ${unit}: Main process exited, code=exited, status=1/FAILURE`,
    `Dec 02 06:00:01 host systemd[1]: ${unit}: Failed with result 'exit-code'.`,
    `Dec 02 06:00:01 host systemd[1]: Failed to start ${unit}.`
  ]
}

/**
 * Sets a host's systemd state; "before" is the host as it is now. The host
 * bin dir gets the stand-ins unless the host has no systemctl.
 */
export async function setFakeSystemd(
  stateDir: string,
  hostBinDir: string,
  toolsDir: string,
  spec: FakeSystemdSpec = {},
  chownToUser: (path: string) => Promise<void> = async () => undefined
): Promise<void> {
  const dir = join(stateDir, 'systemd')
  await mkdir(dir, { recursive: true })
  await mkdir(hostBinDir, { recursive: true })
  const failedBefore = spec.failedBefore ?? []
  const failedAfter = spec.failedAfter ?? failedBefore
  const units = [...new Set([...failedBefore, ...failedAfter, ...Object.keys(spec.journal ?? {})])]
  const journal = units.flatMap(unit =>
    (spec.journal?.[unit] ?? defaultJournal(unit)).map(line => `${unit}\t${line}\n`)
  )
  const lines = (list: string[]): string => list.map(unit => `${unit}\n`).join('')
  await Promise.all([
    writeFile(join(dir, 'failed-before'), lines(failedBefore)),
    writeFile(join(dir, 'failed-after'), lines(failedAfter)),
    writeFile(join(dir, 'journal'), journal.join('')),
    writeFile(join(dir, 'baseline'), `${await generationSum(stateDir)}\n`),
    spec.startingSeconds
      ? writeFile(join(dir, 'starting-seconds'), `${Math.ceil(spec.startingSeconds)}\n`)
      : rm(join(dir, 'starting-seconds'), { force: true }),
    spec.hang ? writeFile(join(dir, 'hang'), '') : rm(join(dir, 'hang'), { force: true })
  ])
  await writeFile(join(dir, 'calls'), '', { flag: 'a' })
  // The login user appends to calls.
  await chownToUser(dir)
  await chownToUser(join(dir, 'calls'))
  await chmod(join(dir, 'calls'), 0o666)
  for (const tool of HIDDEN) {
    const link = join(hostBinDir, tool)
    await rm(link, { force: true })
    if (!spec.absent) await symlink(join(toolsDir, tool), link)
  }
}

/** Every systemctl / journalctl call on the host so far (`systemctl list-units --failed ...`). */
export async function fakeSystemdCalls(stateDir: string): Promise<string[]> {
  const text = await readFile(join(stateDir, 'systemd', 'calls'), 'utf8').catch(() => '')
  return text.split('\n').filter(line => line !== '')
}
