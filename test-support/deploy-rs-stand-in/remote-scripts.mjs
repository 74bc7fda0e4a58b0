// @ts-check
/**
 * The commands the stand-in runs on a host over ssh, in plain POSIX sh. They
 * play upstream's host side — activate-rs (serokell/deploy-rs
 * src/bin/activate.rs: `activate`, `deactivate`, `wait`, `revoke`), nix-env,
 * and nixpkgs' switch-to-configuration(-ng) — printing those programs' lines
 * in their order, on stderr as they do (ssh forwards them to deploy's stderr).
 * They also append what happened to $FLEET_HOST_DIR/log (set by the host's
 * sshd) and move the profile's generation links as nix-env does (in the
 * profile's profilePath, else in $FLEET_HOST_DIR/stand-in-profiles).
 *
 * Time is compressed where upstream waits for a timeout that nothing can end
 * any more (a confirmation that cannot arrive, a canary that a failed
 * activation will never create): the host gives up after a fraction of a
 * second instead of confirmTimeout / activationTimeout. Every loop is bounded.
 */
import { formatLine } from './log.mjs'

/** Seconds the host waits for a confirmation that cannot arrive any more (instead of confirmTimeout). */
const SIMULATED_CONFIRM_TIMEOUT_S = 0.5
/** Seconds an orphaned waiter takes to give up once the activation failed (instead of activationTimeout). */
const SIMULATED_WAIT_TIMEOUT_S = 0.3
/** Upper bound of the 'hang' behaviour on the host. */
const HANG_LIMIT_S = 120
/** How long a host script waits for the fleet to close or reopen its sshd listener. */
const LISTENER_WAIT_S = 5
const POLL_S = 0.02

/** @param {string} value */
export function shQuote(value) {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

const PRELUDE = [
  'set -u',
  'D="${FLEET_HOST_DIR:?FLEET_HOST_DIR is not set: not a sandbox fleet host}"',
  // Our parent is sshd's session process; it exits when the client goes away.
  // It may linger as a zombie (where pid 1 does not reap), so look at its state.
  'session_alive() {',
  '  read -r s < "/proc/$PPID/stat" 2>/dev/null || return 1',
  '  case "$s" in *") Z "* | *") X "*) return 1 ;; esac',
  '}'
]

/** @param {string} entry */
const hostLog = entry => `printf '%s\\n' ${shQuote(entry)} >> "$D/log"`

/** One log line of activate-rs (its logger writes to stderr). @param {import('./log.mjs').Source} source @param {import('./log.mjs').Level} level @param {string} message */
const say = (source, level, message) =>
  `printf '%s\\n' ${shQuote(formatLine(source, level, message))} >&2`

/** @param {string} line */
const stderrLine = line => `printf '%s\\n' ${shQuote(line)} >&2`

/**
 * The scenario's extraLines, printed verbatim on the host's stdout (bytes
 * such as CR included), as a host's own output would be.
 * @param {RemoteContext} c
 */
const extraLines = c => (c.scenario.extraLines ?? []).map(line => `printf '%s\\n' ${shQuote(line)}`)

/** @param {number} ms */
const spend = ms => (ms > 0 ? [`sleep ${(ms / 1000).toFixed(3)}`] : [])

/** @param {string[]} lines */
const script = lines => [...PRELUDE, ...lines].join('\n')

/**
 * Loop while `condition` holds, at most `seconds`; also stop when the ssh
 * session is gone.
 * @param {string} condition @param {number} seconds @param {number} [interval]
 */
function pollWhile(condition, seconds, interval = POLL_S) {
  const rounds = Math.max(1, Math.ceil(seconds / interval))
  return [
    'i=0',
    `while ${condition} && [ "$i" -lt ${rounds} ]; do`,
    '  session_alive || exit 1',
    `  sleep ${interval}`,
    '  i=$((i + 1))',
    'done'
  ]
}

/** Host-side marker files of one activation (its canary, its failure, its waiter). @param {string} kind @param {string} token */
const marker = (kind, token) => `"$D/${kind}-${token}"`

/**
 * Asks the fleet to close this host's sshd listener (test-support/fleet
 * index.ts watches for the file), and waits until it has: new ssh
 * connections are then refused, sessions already open go on.
 */
const closeListener = () => [
  ': > "$D/close-sshd"',
  ...pollWhile('[ ! -e "$D/sshd-closed" ]', LISTENER_WAIT_S)
]
/** Asks the fleet to listen again (a rollback restored the configuration that worked). */
const reopenListener = () => [': > "$D/open-sshd"']

/**
 * @typedef {{ node: string, profile: string, path: string, profilePath: string | null,
 *   scenario: import('./scenario.mjs').NodeScenario }} RemoteContext
 */

/** A profile name as one file name (test-support/fleet/profiles.ts safeFileName). @param {string} name */
const safeFileName = name =>
  name.replace(/[^A-Za-z0-9._-]/g, c => `%${c.charCodeAt(0).toString(16)}`)

/**
 * `P=` the profile activate-rs installs into: the profile's profilePath, else
 * the stand-in's own place on the host (activate-rs would use the Nix state
 * dir, which the sandbox never touches; test-support/fleet/profiles.ts).
 * @param {RemoteContext} c
 */
const profileVariable = c =>
  c.profilePath
    ? `P=${shQuote(c.profilePath)}`
    : `P="$D/stand-in-profiles/"${shQuote(safeFileName(c.profile))}`

/**
 * nix-env's generations of profile $P (nix src/libstore/profiles.cc): links
 * `$P-N-link` → a store path, and `$P` → the current one's name. `gen_of`:
 * the current generation (0: none); `newest_gen`: the highest; `older_gen N`:
 * the highest below N (0: none).
 */
const GENERATION_FUNCTIONS = [
  'gen_of() { l=$(readlink "$P" 2>/dev/null) || { echo 0; return; }; l=${l%-link}; echo "${l##*-}"; }',
  'gens() { for l in "$P"-*-link; do [ -L "$l" ] || continue; n=${l#"$P"-}; n=${n%-link}; case $n in "" | *[!0-9]*) continue ;; esac; echo "$n"; done; }',
  'newest_gen() { m=0; for n in $(gens); do [ "$n" -gt "$m" ] && m=$n; done; echo "$m"; }',
  'older_gen() { m=0; for n in $(gens); do [ "$n" -lt "$1" ] && [ "$n" -gt "$m" ] && m=$n; done; echo "$m"; }',
  'switch_to() { ln -sfn "${P##*/}-$1-link" "$P"; }'
]

/** `nix-env -p PROFILE --set CLOSURE`: a new generation, the newest plus one (silent). @param {RemoteContext} c */
const setProfile = c => [
  profileVariable(c),
  ...GENERATION_FUNCTIONS,
  'g=$(( $(newest_gen) + 1 ))',
  `ln -sfn ${shQuote(c.path)} "$P-$g-link"`,
  'switch_to "$g"'
]

/**
 * What the activation script (`deploy-rs-activate` → switch-to-configuration)
 * prints when it refuses or fails, and its exit status; null when it succeeds.
 * Texts: nixpkgs nixos/modules/system/activation/switch-to-configuration.pl and
 * switch-to-configuration-ng (src/main.rs).
 * @param {RemoteContext} c
 * @returns {{ lines: string[], exit: number } | null}
 */
function refusal(c) {
  switch (c.scenario.behaviour) {
    case 'dry-not-nixos':
      // switch-to-configuration(-ng): the /etc/NIXOS / os-release check
      return { lines: ['This is not a NixOS installation!'], exit: 1 }
    case 'dry-lock-busy':
      // switch-to-configuration-ng: flock on /run/nixos/switch-to-configuration.lock
      return { lines: ['Could not acquire lock'], exit: 1 }
    case 'dry-pre-switch-fails':
      // switch-to-configuration-ng: do_pre_switch_check, per check then overall
      return {
        lines: ["Pre-switch check 'switchInhibitors' failed", 'Pre-switch checks failed'],
        exit: 1
      }
    case 'dry-incompatible-init':
      // switch-to-configuration(.pl / -ng): init-interface-version differs; three lines, exit 100
      return {
        lines: [
          'Warning: the new NixOS configuration has an \u2018init\u2019 that is',
          'incompatible with the current configuration.  The new configuration',
          "won't take effect until you reboot the system."
        ],
        exit: 100
      }
    default:
      return null
  }
}

/**
 * activate-rs `deactivate` (src/bin/activate.rs), from activate or revoke:
 * nix-env --rollback, --list-generations, --delete-generations, then the
 * previous generation's activation script. nix-env's own lines (stderr) come
 * between activate-rs's.
 * @param {RemoteContext} c @param {'activate' | 'revoke'} source
 */
const deactivate = (c, source) => [
  // serokell/deploy-rs src/bin/activate.rs deactivate
  say(source, 'WARN', 'De-activating due to error'),
  profileVariable(c),
  ...GENERATION_FUNCTIONS,
  'g=$(gen_of)',
  'o=$(older_gen "$g")',
  'if [ "$o" -eq 0 ]; then',
  // nix-env --rollback on a profile's first generation (nix profiles.cc switchGeneration)
  `  printf 'error: no generation older than the current (%s) exists\\n' "$g" >&2`,
  // serokell/deploy-rs src/bin/activate.rs DeactivateError::RollbackExit, inside ActivateError::Deactivate
  '  ' +
    say(
      source,
      'ERROR',
      `${source === 'activate' ? 'There was an error de-activating after an error was encountered: ' : ''}The rollback resulted in a bad exit code: Some(1)`
    ),
  '  exit 1',
  'fi',
  // nix-env --rollback (nix src/nix-env/user-env / profiles.cc switchGeneration)
  `printf 'switching profile from version %s to %s\\n' "$g" "$o" >&2`,
  'switch_to "$o"',
  // activate-rs deletes the last generation nix-env --list-generations shows
  'g=$(newest_gen)',
  // serokell/deploy-rs src/bin/activate.rs deactivate
  `printf '%s%s\\n' ${shQuote(formatLine(source, 'WARN', 'Removing generation by ID '))} "$g" >&2`,
  // nix-env --delete-generations (nix profiles.cc deleteGeneration)
  'rm -f "$P-$g-link"',
  `printf 'removing profile version %s\\n' "$g" >&2`,
  // serokell/deploy-rs src/bin/activate.rs deactivate
  say(source, 'INFO', 'Attempting to re-activate the last generation'),
  // the previous generation's switch-to-configuration switch
  stderrLine('activating the configuration...')
]

/**
 * Prints floodBytes of numbered, fixed-width log lines with seq: streamed,
 * fast, and never held in memory.
 * @param {RemoteContext} c
 */
function flood(c) {
  const { floodBytes, floodStream } = c.scenario
  const name = c.node.replace(/%/g, '%%')
  /** @param {string} format @param {number} bytes @param {string} redirect */
  const lines = (format, bytes, redirect) => {
    const lineBytes = Buffer.byteLength(format.replace('%08.0f', '00000000')) + 1
    const count = Math.floor(bytes / lineBytes)
    return count > 0 ? [`seq -f ${shQuote(format)} 1 ${count}${redirect}`] : []
  }
  const out = `flood stdout line %08.0f from ${name}: the quick brown fox jumps over the lazy dog`
  const err = formatLine('activate', 'INFO', `flood line %08.0f from ${name}: the quick brown fox`)
  if (floodStream === 'stdout') return lines(out, floodBytes, '')
  if (floodStream === 'stderr') return lines(err, floodBytes, ' >&2')
  const half = Math.floor(floodBytes / 2)
  return [...lines(out, floodBytes - half, ''), ...lines(err, half, ' >&2')]
}

const hang = () => pollWhile('true', HANG_LIMIT_S, 0.1)

/** @param {RemoteContext} c */
export function pushScript(c) {
  const lines = [hostLog(`push ${c.profile} ${c.path}`), ...spend(c.scenario.hostCostMs)]
  // 'ssh-lost': the host stops accepting ssh once the closure is on it.
  if (c.scenario.behaviour === 'ssh-lost') lines.push(...closeListener())
  return script(lines)
}

/**
 * `activate-rs activate` for `switch` (with or without magic rollback) and
 * `boot` (serokell/deploy-rs src/bin/activate.rs `activate`).
 * @param {RemoteContext & { mode: 'switch' | 'boot', magicRollback: boolean,
 *   autoRollback: boolean, confirmTimeout: number, token: string }} c
 */
export function activateScript(c) {
  const canary = marker('canary', c.token)
  const lines = [
    hostLog(`${c.mode === 'boot' ? 'boot' : 'activate'} ${c.profile}`),
    // serokell/deploy-rs src/bin/activate.rs activate
    say('activate', 'INFO', 'Activating profile'),
    ...setProfile(c),
    ...spend(c.scenario.hostCostMs),
    ...extraLines(c)
  ]
  if (c.scenario.behaviour === 'hang') return script([...lines, ...hang(), 'exit 1'])
  if (c.scenario.behaviour === 'flood') lines.push(...flood(c))

  const refused = refusal(c)
  const scriptFailed =
    refused ??
    (c.scenario.behaviour === 'activation-fails'
      ? // switch-to-configuration switch starts, then a step of it fails
        {
          lines: [
            c.mode === 'boot' ? 'updating GRUB 2 menu...' : 'activating the configuration...'
          ],
          exit: 1
        }
      : null)
  if (scriptFailed) {
    return script([
      ...lines,
      ...scriptFailed.lines.map(stderrLine),
      // the waiter (magic rollback) will never see a canary now
      `: > ${marker('failed', c.token)}`,
      // activate-rs: de-activate first (only with --auto-rollback), then report
      ...(c.autoRollback ? [...deactivate(c, 'activate'), hostLog(`rollback ${c.profile}`)] : []),
      // serokell/deploy-rs src/bin/activate.rs ActivateError::RunActivateExit, printed by main
      say(
        'activate',
        'ERROR',
        `The activation script resulted in a bad exit code: Some(${scriptFailed.exit})`
      ),
      'exit 1'
    ])
  }

  // the activation script's own output (switch-to-configuration switch / boot)
  lines.push(
    stderrLine(c.mode === 'boot' ? 'updating GRUB 2 menu...' : 'activating the configuration...')
  )
  // serokell/deploy-rs src/bin/activate.rs activate
  lines.push(say('activate', 'INFO', 'Activation succeeded!'))
  if (c.mode === 'switch' && c.magicRollback) {
    const lost = c.scenario.behaviour === 'confirm-timeout'
    lines.push(
      // serokell/deploy-rs src/bin/activate.rs activate
      say('activate', 'INFO', 'Magic rollback is enabled, setting up confirmation hook...'),
      // 'confirm-timeout': the new configuration breaks ssh once the waiter is connected
      ...(lost
        ? [
            ...pollWhile(`[ ! -e ${marker('waiter', c.token)} ]`, LISTENER_WAIT_S),
            ...closeListener()
          ]
        : []),
      // activation_confirmation: the canary file, then danger_zone
      `: > ${canary}`,
      say('activate', 'INFO', 'Waiting for confirmation event...'),
      ...(lost
        ? [`sleep ${SIMULATED_CONFIRM_TIMEOUT_S}`]
        : pollWhile(`[ -e ${canary} ]`, c.confirmTimeout)),
      `if [ -e ${canary} ]; then`,
      `  rm -f ${canary}`,
      ...deactivate(c, 'activate').map(line => `  ${line}`),
      `  ${hostLog(`rollback ${c.profile}`)}`,
      // the previous configuration lets ssh in again
      ...(lost ? reopenListener().map(line => `  ${line}`) : []),
      // serokell/deploy-rs src/bin/activate.rs ActivateError::ActivationConfirmation
      // (ActivationConfirmationError::WaitingError, DangerZoneError::TimesUp)
      '  ' +
        say(
          'activate',
          'ERROR',
          'Failed to get activation confirmation: Error waiting for confirmation event: Timeout elapsed for confirmation'
        ),
      '  exit 1',
      'fi'
    )
  }
  lines.push('exit 0')
  return script(lines)
}

/**
 * `activate-rs wait` (serokell/deploy-rs src/bin/activate.rs `wait`): returns
 * at once, silently, if the canary is already there; else `danger_zone` for
 * activationTimeout seconds (default 240).
 * @param {{ token: string, activationTimeout: number }} c
 */
export function waitScript(c) {
  const canary = marker('canary', c.token)
  const failed = marker('failed', c.token)
  return script([
    `: > ${marker('waiter', c.token)}`,
    `[ -e ${canary} ] && exit 0`,
    // serokell/deploy-rs src/bin/activate.rs danger_zone
    say('wait', 'INFO', 'Waiting for confirmation event...'),
    ...pollWhile(`[ ! -e ${canary} ] && [ ! -e ${failed} ]`, c.activationTimeout),
    `if [ ! -e ${canary} ]; then`,
    // a failed activation never creates the canary: upstream waits out activationTimeout
    `  [ -e ${failed} ] && sleep ${SIMULATED_WAIT_TIMEOUT_S}`,
    // serokell/deploy-rs src/bin/activate.rs WaitError::Waiting(DangerZoneError::TimesUp), printed by main
    '  ' + say('wait', 'ERROR', 'Error waiting for activation: Timeout elapsed for confirmation'),
    '  exit 1',
    'fi',
    // serokell/deploy-rs src/bin/activate.rs wait
    say('wait', 'INFO', 'Found canary file, done waiting!')
  ])
}

/** deploy's confirmation: `rm` of the canary (serokell/deploy-rs src/deploy.rs confirm_profile). @param {RemoteContext & { token: string }} c */
export function confirmScript(c) {
  return script([hostLog(`confirm ${c.profile}`), `rm ${marker('canary', c.token)}`])
}

/** `activate-rs revoke`: de-activation of a profile that had succeeded (src/bin/activate.rs `revoke`). @param {RemoteContext} c */
export function revokeScript(c) {
  return script([hostLog(`revoke ${c.profile}`), ...deactivate(c, 'revoke')])
}

/** @param {import('./scenario.mjs').Changes} ch */
function wouldLines(ch) {
  /** @type {string[]} */
  const out = []
  /** @param {string} what @param {string[] | undefined} units */
  const units = (what, units) => {
    if (units && units.length > 0) out.push(`would ${what}: ${units.join(', ')}`)
  }
  units('stop the following units', ch.stop)
  units('NOT stop the following changed units', ch.notStop)
  out.push('would activate the configuration...')
  if (ch.restartSystemd) out.push('would restart systemd')
  units('reload the following units', ch.reload)
  units('restart the following units', ch.restart)
  units('start the following units', ch.start)
  return out
}

/**
 * `activate-rs activate --dry-activate`: runs the closure's activation script
 * with DRY_ACTIVATE=1 (`switch-to-configuration dry-activate`, which writes to
 * stderr) and IGNORES its exit status: activate-rs prints nothing of its own
 * and exits 0 (serokell/deploy-rs src/bin/activate.rs `activate`).
 * @param {RemoteContext} c
 */
export function dryActivateScript(c) {
  const lines = [
    hostLog(`dry-activate ${c.profile}`),
    ...spend(c.scenario.hostCostMs),
    ...extraLines(c)
  ]
  if (c.scenario.behaviour === 'hang') return script([...lines, ...hang(), 'exit 1'])
  if (c.scenario.behaviour === 'flood') lines.push(...flood(c))
  const refused = refusal(c)
  if (refused) return script([...lines, ...refused.lines.map(stderrLine), 'exit 0'])
  return script([...lines, ...wouldLines(c.scenario.changes).map(stderrLine), 'exit 0'])
}
