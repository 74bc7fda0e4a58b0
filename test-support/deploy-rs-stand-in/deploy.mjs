#!/usr/bin/env node
// @ts-check
/**
 * Stand-in for deploy-rs's `deploy` (the real one cannot be built here). It
 * follows /work/shared/docs/deploy-rs-facts.md: same command line, same log
 * lines on stderr, same exit codes; it runs the REAL nix for checks and
 * evaluation and REAL ssh to the sandbox fleet's hosts for push, activation,
 * confirmation and revocation. How each node behaves comes from the scenario
 * file (env DEPLOY_RS_STAND_IN_SCENARIO); every run is appended to the calls
 * log (env DEPLOY_RS_STAND_IN_CALLS).
 */
import { readSync } from 'node:fs'
import { recordCall } from './calls.mjs'
import { parseCli, UsageError, USAGE } from './cli.mjs'
import { checkFlake, evaluateFlake, renderPlan, resolveParts } from './deploy-data.mjs'
import { DeployLog } from './log.mjs'
import {
  activateScript,
  confirmScript,
  dryActivateScript,
  pushScript,
  revokeScript,
  waitScript
} from './remote-scripts.mjs'
import { loadScenario } from './scenario.mjs'
import { runSsh, startSsh } from './ssh.mjs'
import { parseTarget } from './target.mjs'

/**
 * @typedef {import('./deploy-data.mjs').Part} Part
 * @typedef {import('./scenario.mjs').NodeScenario} NodeScenario
 * @typedef {{ ok: true } | { ok: false, message: string, exitCode: number }} Outcome
 */

const CONFIRM_TIMEOUT_MESSAGE =
  'Failed to get activation confirmation: Error waiting for confirmation event: Timeout elapsed for confirmation'

/** @type {Outcome} */
const OK = { ok: true }

/** @param {number | null} code */
const some = code => (code === null ? 'None' : `Some(${code})`)

/** @param {string} message @param {number} [exitCode] @returns {Outcome} */
const failed = (message, exitCode = 1) => ({ ok: false, message, exitCode })

/** The 'killed' behaviour: die like an OOM-killed process, mid-deploy. */
function killSelf() {
  process.kill(process.pid, 'SIGKILL')
}

let tokenCounter = 0
/** Names this activation's canary on the host, unique per run and profile. */
const newToken = () => `${process.pid}-${Date.now()}-${tokenCounter++}`

/**
 * Why an activation session failed, worded as deploy-rs reports it.
 * @param {Part} part @param {NodeScenario} scenario @param {import('./ssh.mjs').Exit} exit
 * @returns {Outcome}
 */
function activationFailure(part, scenario, exit) {
  if (exit.code !== 255 && exit.code !== null) {
    if (scenario.behaviour === 'rollback' || scenario.behaviour === 'rollback-exit-0') {
      const message = `Deployment to node ${part.node} failed, rolled back to previous generation`
      // old deploy-rs exited 0 after a rollback (upstream #179, #214)
      return failed(message, scenario.behaviour === 'rollback-exit-0' ? 0 : 1)
    }
  }
  return failed(
    `Failed to deploy profile to node ${part.node}: Activating over SSH resulted in a bad exit code: ${some(exit.code)}`
  )
}

/**
 * Activates one profile (or dry-activates it) over ssh.
 * @param {Part} part @param {NodeScenario} scenario
 * @param {import('./cli.mjs').Options} opts @param {DeployLog} log
 * @returns {Promise<Outcome>}
 */
async function activate(part, scenario, opts, log) {
  const context = { node: part.node, profile: part.profile, path: part.path, scenario }
  if (opts.dryActivate) {
    if (scenario.behaviour === 'killed') killSelf()
    // deploy-rs ignores the dry activation's exit status: a failed dry run
    // shows only in the host's output.
    await runSsh(part, dryActivateScript(context), 'activation')
    log.info('Completed dry-activate!')
    return OK
  }

  log.info(`Activating profile \`${part.profile}\` for node \`${part.node}\``)
  if (scenario.behaviour === 'killed') killSelf()
  const mode = opts.boot ? 'boot' : 'switch'
  const magicRollback = mode === 'switch' && part.magicRollback && scenario.behaviour !== 'hang'
  const token = newToken()
  const activateCommand = activateScript({
    ...context,
    mode,
    magicRollback,
    confirmTimeout: part.confirmTimeout,
    token
  })
  log.debug(`Constructed activation command: ${activateCommand}`)
  const activation = startSsh(part, activateCommand, 'activation')

  if (!magicRollback) {
    const exit = await activation.exit
    if (exit.code !== 0) return activationFailure(part, scenario, exit)
    log.info(
      mode === 'boot' ? 'Success activating for next boot, done!' : 'Success activating, done!'
    )
    return OK
  }

  log.info('Creating activation waiter')
  const waiter = startSsh(
    part,
    waitScript({ token, confirmTimeout: part.confirmTimeout }),
    'activation'
  )
  /** @type {Promise<import('./ssh.mjs').Exit>} */
  const activationFailed = activation.exit.then(exit =>
    exit.code === 0 ? new Promise(() => undefined) : exit
  )
  const first = await Promise.race([
    waiter.exit.then(exit => ({ from: 'waiter', exit })),
    activationFailed.then(exit => ({ from: 'activation', exit }))
  ])
  if (first.from === 'activation') {
    waiter.child.kill('SIGTERM')
    return activationFailure(part, scenario, first.exit)
  }
  if (first.exit.code !== 0) {
    return failed(
      `Failed to deploy profile to node ${part.node}: Waiting over SSH resulted in a bad exit code: ${some(first.exit.code)}`
    )
  }
  log.info('Success activating, attempting to confirm activation')
  if (scenario.behaviour === 'confirm-timeout') {
    // The confirmation never reaches the host, which gives up and rolls back.
    await activation.exit
    return failed(CONFIRM_TIMEOUT_MESSAGE)
  }
  const confirmed = await runSsh(part, confirmScript({ ...context, token }), 'activation')
  if (confirmed.code !== 0) {
    return failed(
      `Failed to deploy profile to node ${part.node}: Error confirming deployment: Confirming activation over SSH resulted in a bad exit code (the server should roll back): ${some(confirmed.code)}`
    )
  }
  log.info('Deployment confirmed.')
  const exit = await activation.exit
  if (exit.code !== 0) return activationFailure(part, scenario, exit)
  return OK
}

/** Reads one line from stdin (the -i prompt); '' at end of input. */
function readLine() {
  const buf = Buffer.alloc(1)
  let line = ''
  for (;;) {
    let n = 0
    try {
      n = readSync(0, buf, 0, 1, null)
    } catch {
      return line
    }
    if (n === 0 || buf[0] === 10) return line
    line += String.fromCharCode(/** @type {number} */ (buf[0]))
  }
}

/**
 * @param {string[]} argv
 * @returns {Promise<number>} the exit code
 */
async function main(argv) {
  /** @type {import('./cli.mjs').Options} */
  let opts
  try {
    opts = parseCli(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(err.message)
    return 2
  }
  if (opts.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (opts.version) {
    process.stdout.write('deploy 1.0\n')
    return 0
  }
  const log = new DeployLog(opts.debugLogs)
  const scenarioOf = loadScenario()

  /** @type {import('./target.mjs').Target[]} */
  let targets
  try {
    targets = opts.targets.map(parseTarget)
  } catch (err) {
    log.error(`Error parsing flake: ${/** @type {Error} */ (err).message}`)
    return 1
  }

  if (!opts.skipChecks) {
    for (const target of targets) {
      log.info(`Running checks for flake in ${target.repo}`)
      const error = await checkFlake(target.repo, opts.extraBuildArgs)
      if (error) {
        log.error(`Failed to check deployment: ${error}`)
        return 1
      }
    }
  }

  /** @type {Part[]} */
  const parts = []
  for (const target of targets) {
    log.info(`Evaluating flake in ${target.repo}`)
    const { root, error } = await evaluateFlake(target.repo, opts.extraBuildArgs)
    if (!root) {
      log.error(`Failed to evaluate deployment data: ${error}`)
      return 1
    }
    try {
      parts.push(...resolveParts(target, root, opts))
    } catch (err) {
      log.error(`Failed to resolve target: ${/** @type {Error} */ (err).message}`)
      return 1
    }
  }

  log.info(renderPlan(parts))
  if (opts.interactive) {
    log.info('Are you sure you want to deploy these profiles?')
    process.stdout.write('> ')
    if (!/^(y|yes)$/i.test(readLine().trim())) {
      log.error('User cancelled deployment')
      return 1
    }
  }

  for (const part of parts) {
    log.info(`Building profile \`${part.profile}\` for node \`${part.node}\``)
    if (scenarioOf(part.node).behaviour === 'build-fails') {
      log.error(`Failed to build profile on node ${part.node}: ${part.node}`)
      return 1
    }
  }

  for (const part of parts) {
    log.info(`Copying profile \`${part.profile}\` to node \`${part.node}\``)
    const context = { ...part, scenario: scenarioOf(part.node) }
    const exit = await runSsh(part, pushScript(context), 'push')
    if (exit.code !== 0) {
      const store = `ssh://${part.sshUser}@${part.hostname}`
      process.stderr.write(
        `error: cannot open connection to remote store '${store}': error: failed to start SSH connection to '${part.sshUser}@${part.hostname}'\n`
      )
      log.error(`Failed to push profile to node ${part.node}: ${part.node}`)
      return 1
    }
  }

  /** @type {Part[]} */
  const succeeded = []
  for (const part of parts) {
    const outcome = await activate(part, scenarioOf(part.node), opts, log)
    if (outcome.ok) {
      succeeded.push(part)
      continue
    }
    // The first failure stops the run; earlier profiles are revoked (even
    // after a dry run) unless --rollback-succeeded false / --auto-rollback false.
    if (opts.rollbackSucceeded && (opts.autoRollback ?? true)) {
      log.info('Revoking previous deploys')
      for (const done of succeeded) {
        if (!done.autoRollback) continue
        const context = { ...done, scenario: scenarioOf(done.node) }
        await runSsh(done, revokeScript(context), 'activation')
      }
    }
    log.error(outcome.message)
    return outcome.exitCode
  }
  return 0
}

const argv = process.argv.slice(2)
recordCall('deploy', argv)
main(argv).then(
  code => process.exit(code),
  err => {
    new DeployLog(false).error(`${/** @type {Error} */ (err).message ?? err}`)
    process.exit(1)
  }
)
