/**
 * What deploy-rs, activate-rs, switch-to-configuration, nix and ssh print,
 * as patterns: the tables DeployLogParser reads a node's log with
 * (serokell/deploy-rs src/lib.rs, src/deploy.rs, src/bin/activate.rs).
 */
import type { Stage } from '../model.js'
import type { SshFailureKind } from './log-parser.js'

/** deploy-rs INFO messages that start a stage. */
export const DEPLOY_STAGE_LINES: readonly [RegExp, Stage][] = [
  [/^Running checks for flake in /, 'check'],
  [/^Evaluating flake in /, 'eval'],
  [/^Building profile `[^`]*` for node `[^`]*`/, 'build'],
  [/^Copying profile `[^`]*` to node `[^`]*`/, 'push'],
  [/^Activating profile `[^`]*` for node `[^`]*`/, 'activate'],
  [/^Success activating, attempting to confirm activation/, 'confirm']
]

/** activate-rs lines after a successful activation, while magic rollback waits. */
export const REMOTE_CONFIRM_LINES = [
  /^Magic rollback is enabled, setting up confirmation hook/,
  /^Waiting for confirmation event/
]

export const SUCCESS_LINES = [
  /^Deployment confirmed\.$/,
  /^Success activating, done!$/,
  /^Success activating for next boot, done!$/,
  /^Completed dry-activate!$/
]

/** deploy-rs's final line after an activation failure: current wording, then 2022-11 to 2024-06. */
export const ROLLBACK_CLAIM =
  /^Deployment (?:to node .+? )?failed, rolled back to previous generation/
/** activate-rs `deactivate()`: printed on the host while it goes back to the previous generation. */
export const REMOTE_DEACTIVATE_LINES = [
  /^De-activating due to error/,
  /^Removing generation by ID /,
  /^Attempting to re-activate the last generation/
]
export const ROLLBACK_FAILURE_LINES = [
  /^Failed to revoke profile/,
  /error de-activating/i,
  /^There was an error de-activating/
]

/** switch-to-configuration dry-activate output (nixpkgs switch-to-configuration, `dry-activate`). */
export const WOULD_UNITS =
  /^would (stop|NOT stop|NOT restart|reload|restart|start) the following (?:changed )?units(?: as well)?: (.*)$/
export const WOULD_RESTART_SYSTEMD = /^would restart systemd$/
export const WOULD_ACTIVATE = /^would activate the configuration\.\.\.$/
/** switch-to-configuration-ng turns a vanished swap device off itself (swapoff). */
export const WOULD_STOP_SWAP = /^would stop swap device:? (\S.*)$/
/** nix copy's progress lines, printed between `Copying profile` and the activation. */
export const NIX_COPY_LINE = /^(?:copying \d+ paths|copying path ')/

/**
 * Dry-activation failures deploy-rs ignores. The init warning is printed over
 * three lines by switch-to-configuration ("... has an ‘init’ that is" /
 * "incompatible with the current configuration. ..."), so the first line is
 * enough; ASCII quotes are accepted too.
 */
export const DRY_FAILURE_LINES = [
  /^Pre-switch checks? failed\b/,
  /^Pre-switch check '[^']*' failed/,
  /^Warning: the new NixOS configuration has an [‘'"`]init[’'"`] that is(?: incompatible)?/,
  /^This is not a NixOS installation!/,
  /^Could not (?:acquire|open) lock\b/
]

export const SSH_FAILURES: readonly [RegExp, SshFailureKind][] = [
  [/^Host key verification failed\.?/, 'host-key'],
  [/Host key for .* has changed and you have requested strict checking/, 'host-key'],
  [/^No [A-Z0-9-]+ host key is known for .* and you have requested strict checking/, 'host-key'],
  [/ssh: connect to host .*: Connection refused/, 'connection-refused'],
  [/ssh: connect to host .*: Connection timed out/, 'timed-out'],
  [/ssh: connect to host .*: Operation timed out/, 'timed-out'],
  [/ssh: connect to host .*: No route to host/, 'no-route'],
  [/ssh: connect to host .*: Network is unreachable/, 'no-route'],
  [/Permission denied \(publickey/, 'auth'],
  [/Could not resolve hostname/, 'dns'],
  [/^kex_exchange_identification:/, 'closed'],
  [/^Connection closed by /, 'closed'],
  [/^Connection reset by /, 'closed'],
  [/^Connection timed out during banner exchange/, 'timed-out'],
  [/failed to start SSH (?:master )?connection to /, 'other'],
  [/^error: cannot connect to '/, 'other']
]
