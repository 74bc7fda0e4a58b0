#!/usr/bin/env node
// @ts-check
/**
 * The fleet's `nix`: logs its argv to the calls log, then runs the real nix
 * (env DEPLOY_RS_STAND_IN_REAL_NIX). `nix run <...deploy-rs...> -- ARGS` runs
 * the deploy-rs stand-in with ARGS instead, so code that starts deploy-rs
 * through `nix run` (with or without --inputs-from) is tested as it is.
 * Exit status and signals are passed through.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { recordCall } from './calls.mjs'

/** Options of `nix run` that take values (so their values are not the installable). */
const VALUE_COUNTS = new Map([
  ['--inputs-from', 1],
  ['--override-input', 2],
  ['--update-input', 1],
  ['--option', 2],
  ['--extra-experimental-features', 1],
  ['--experimental-features', 1],
  ['--arg', 2],
  ['--argstr', 2],
  ['--expr', 1],
  ['--file', 1],
  ['-f', 1],
  ['--reference-lock-file', 1],
  ['--output-lock-file', 1],
  ['--store', 1],
  ['--eval-store', 1],
  ['-I', 1],
  ['--include', 1]
])

/**
 * The args for the stand-in when argv is `nix [opts] run [opts] INSTALLABLE [-- ARGS]`
 * with an installable naming deploy-rs; null otherwise.
 * @param {string[]} argv
 * @returns {string[] | null}
 */
function deployRsRunArgs(argv) {
  const dashDash = argv.indexOf('--')
  const head = dashDash < 0 ? argv : argv.slice(0, dashDash)
  /** @type {string[]} */
  const words = []
  for (let i = 0; i < head.length; i++) {
    const arg = /** @type {string} */ (head[i])
    if (arg.startsWith('-')) i += VALUE_COUNTS.get(arg) ?? 0
    else words.push(arg)
  }
  if (words[0] !== 'run' || !words[1] || !/deploy-rs/.test(words[1])) return null
  return dashDash < 0 ? [] : argv.slice(dashDash + 1)
}

const argv = process.argv.slice(2)
recordCall('nix', argv)
const standInArgs = deployRsRunArgs(argv)
const here = dirname(fileURLToPath(import.meta.url))
const realNix = process.env.DEPLOY_RS_STAND_IN_REAL_NIX || '/usr/bin/nix'
/**
 * A test that limits the size of the files the action writes (RLIMIT_FSIZE,
 * inherited by children) exempts nix's own store database: on a runner a
 * multi-user Nix writes it from the daemon, outside the step's limits.
 */
const realNixArgv = process.env.DEPLOY_RS_STAND_IN_NIX_NO_FSIZE_LIMIT
  ? ['prlimit', '--fsize=unlimited', realNix, ...argv]
  : [realNix, ...argv]
const child =
  standInArgs === null
    ? spawn(/** @type {string} */ (realNixArgv[0]), realNixArgv.slice(1), { stdio: 'inherit' })
    : spawn(process.execPath, [join(here, 'deploy.mjs'), ...standInArgs], { stdio: 'inherit' })

/** @type {NodeJS.Signals[]} */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP']
for (const sig of FORWARDED) process.on(sig, () => child.kill(sig))
child.on('error', err => {
  process.stderr.write(`nix wrapper: ${err.message}\n`)
  process.exit(127)
})
child.on('exit', (code, signal) => {
  if (signal) {
    for (const sig of FORWARDED) process.removeAllListeners(sig)
    process.kill(process.pid, signal)
  }
  process.exit(code ?? 1)
})
