// @ts-check
/**
 * The commands the stand-in runs on a host over ssh, in plain POSIX sh. They
 * play activate-rs and switch-to-configuration: append what happened to
 * $FLEET_HOST_DIR/log (set by the host's sshd), spend hostCostMs, print the
 * remote log lines on stderr (ssh forwards them to deploy's stderr) and exit
 * with the status the behaviour calls for. Every loop is bounded.
 */
import { formatLine } from './log.mjs'

/** Seconds the host waits for a confirmation that never comes (instead of confirmTimeout). */
const SIMULATED_CONFIRM_TIMEOUT_S = 0.5
/** Upper bound of the 'hang' behaviour on the host. */
const HANG_LIMIT_S = 120
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

/** @param {import('./log.mjs').Source} source @param {import('./log.mjs').Level} level @param {string} message */
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
 * Loop until `condition` is false, at most `seconds`; also stop when the ssh
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

/** @param {string} token */
const canary = token => `"$D/canary-${token}"`

/**
 * @typedef {{ node: string, profile: string, path: string, scenario: import('./scenario.mjs').NodeScenario }} RemoteContext
 */

/** @param {RemoteContext} c */
export function pushScript(c) {
  return script([hostLog(`push ${c.profile} ${c.path}`), ...spend(c.scenario.hostCostMs)])
}

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

/** What a failing activation prints on the host, and its exit status. @param {RemoteContext} c */
function failure(c) {
  switch (c.scenario.behaviour) {
    case 'rollback':
    case 'rollback-exit-0':
      return [
        say('activate', 'ERROR', 'The activation script exited with code 1'),
        say('activate', 'WARN', 'De-activating due to error'),
        say('activate', 'INFO', 'Attempting to re-activate the last generation'),
        hostLog(`rollback ${c.profile}`),
        'exit 1'
      ]
    case 'dry-incompatible-init':
      return [stderrLine(INCOMPATIBLE_INIT), 'exit 100']
    case 'dry-pre-switch-fails':
      return [
        stderrLine('Pre-switch checks failed'),
        say('activate', 'ERROR', 'The activation script exited with code 1'),
        'exit 1'
      ]
    case 'activation-fails':
      return [say('activate', 'ERROR', 'The activation script exited with code 1'), 'exit 1']
    default:
      return null
  }
}

const INCOMPATIBLE_INIT =
  'Warning: the new NixOS configuration has an \u2018init\u2019 that is incompatible with the current configuration. ' +
  "The new configuration won't take effect until you reboot the system."

/**
 * A real activation: `switch` with magic rollback (waits for the confirmation,
 * rolls back without it) or without, or `boot`.
 * @param {RemoteContext & { mode: 'switch' | 'boot', magicRollback: boolean, confirmTimeout: number, token: string }} c
 */
export function activateScript(c) {
  const lines = [
    hostLog(`${c.mode === 'boot' ? 'boot' : 'activate'} ${c.profile}`),
    ...spend(c.scenario.hostCostMs),
    say('activate', 'INFO', 'Activating profile'),
    ...extraLines(c)
  ]
  if (c.scenario.behaviour === 'hang') return script([...lines, ...hang(), 'exit 1'])
  if (c.scenario.behaviour === 'flood') lines.push(...flood(c))
  const failed = failure(c)
  if (failed) return script([...lines, ...failed])
  lines.push(say('activate', 'INFO', 'Activation succeeded!'))
  if (c.mode === 'switch' && c.magicRollback) {
    const lost = c.scenario.behaviour === 'confirm-timeout'
    lines.push(
      say('activate', 'INFO', 'Magic rollback is enabled, setting up confirmation hook...'),
      `: > ${canary(c.token)}`,
      say('activate', 'INFO', 'Waiting for confirmation event...'),
      // confirm-timeout: the confirmation is lost; give up after a short simulated timeout
      ...(lost
        ? [`sleep ${SIMULATED_CONFIRM_TIMEOUT_S}`]
        : pollWhile(`[ -e ${canary(c.token)} ]`, c.confirmTimeout)),
      `if [ -e ${canary(c.token)} ]; then`,
      `  rm -f ${canary(c.token)}`,
      '  ' +
        say(
          'activate',
          'ERROR',
          'Failed to get activation confirmation: Error waiting for confirmation event: Timeout elapsed for confirmation'
        ),
      '  ' + say('activate', 'WARN', 'De-activating due to error'),
      '  ' + hostLog(`rollback ${c.profile}`),
      '  exit 1',
      'fi'
    )
  }
  lines.push('exit 0')
  return script(lines)
}

/** The waiter of magic rollback: returns once the activation set up its canary. @param {{ token: string, confirmTimeout: number }} c */
export function waitScript(c) {
  return script([
    say('wait', 'INFO', 'Waiting for confirmation event...'),
    ...pollWhile(`[ ! -e ${canary(c.token)} ]`, c.confirmTimeout),
    `if [ ! -e ${canary(c.token)} ]; then`,
    '  ' + say('wait', 'ERROR', 'Timeout elapsed while waiting for the activation'),
    '  exit 1',
    'fi',
    say('wait', 'INFO', 'Found canary file, done waiting!')
  ])
}

/** @param {RemoteContext & { token: string }} c */
export function confirmScript(c) {
  return script([hostLog(`confirm ${c.profile}`), `rm -f ${canary(c.token)}`])
}

/** @param {RemoteContext} c */
export function revokeScript(c) {
  return script([
    hostLog(`revoke ${c.profile}`),
    say('revoke', 'INFO', 'Removing generation by ID 2'),
    say('revoke', 'INFO', 'Attempting to re-activate the last generation')
  ])
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

/** `switch-to-configuration dry-activate`: writes what it would do to stderr. @param {RemoteContext} c */
export function dryActivateScript(c) {
  const lines = [
    hostLog(`dry-activate ${c.profile}`),
    ...spend(c.scenario.hostCostMs),
    ...extraLines(c)
  ]
  switch (c.scenario.behaviour) {
    case 'hang':
      return script([...lines, ...hang(), 'exit 1'])
    case 'dry-pre-switch-fails':
      return script([...lines, stderrLine('Pre-switch checks failed'), 'exit 1'])
    case 'dry-incompatible-init':
      return script([...lines, stderrLine(INCOMPATIBLE_INIT), 'exit 100'])
    case 'flood':
      lines.push(...flood(c))
  }
  return script([...lines, ...wouldLines(c.scenario.changes).map(stderrLine)])
}
