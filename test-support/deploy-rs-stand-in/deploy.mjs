#!/usr/bin/env node
// @ts-check
/**
 * Stand-in for deploy-rs's `deploy` (the real one cannot be built here). It is
 * written from upstream's source (serokell/deploy-rs src/cli.rs `run` /
 * `run_deploy`, src/deploy.rs `deploy_profile` / `confirm_profile` /
 * `revoke`, src/push.rs), not from the action's parser: each message below
 * names the upstream file and function it comes from, and the lines come in
 * upstream's order. It runs the REAL nix for checks and evaluation and REAL
 * ssh to the sandbox fleet's hosts for push, activation, waiting,
 * confirmation and revocation; the host side is remote-scripts.mjs. How each
 * node behaves comes from the scenario file (env DEPLOY_RS_STAND_IN_SCENARIO);
 * every run is appended to the calls log (env DEPLOY_RS_STAND_IN_CALLS).
 */
import { createHash } from 'node:crypto'
import { readSync } from 'node:fs'
import { recordCall } from './calls.mjs'
import { parseCli, UsageError, USAGE } from './cli.mjs'
import {
  checkFlake,
  evaluateFlake,
  renderPlan,
  resolveParts,
  ResolveError
} from './deploy-data.mjs'
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
 * @typedef {import('./scenario.mjs').DeployRsVersion} DeployRsVersion
 * @typedef {{ ok: true } | { ok: false, message: string } | { ok: false, panicked: true }} Outcome
 */

/** @type {Outcome} */
const OK = { ok: true }

/** Rust's `{:?}` of an Option<i32> exit code. @param {number | null} code */
const some = code => (code === null ? 'None' : `Some(${code})`)

/** @param {string} message @returns {Outcome} */
const failed = message => ({ ok: false, message })

/** The 'killed' behaviour: die like an OOM-killed process, mid-deploy. */
function killSelf() {
  process.kill(process.pid, 'SIGKILL')
}

let tokenCounter = 0
/** Names this activation's canary on the host, unique per run and profile. */
const newToken = () => `${process.pid}-${Date.now()}-${tokenCounter++}`

/** The command prefix deploy-rs adds when the profile user differs from the ssh user (src/lib.rs DeployData::defs). @param {Part} part */
const sudo = part => (part.sshUser === part.profileUser ? '' : `sudo -u ${part.profileUser} `)

/** How activate-rs learns the profile (src/deploy.rs, ProfileInfo). @param {Part} part */
const profileInfo = part =>
  part.profilePath !== null
    ? `--profile-path '${part.profilePath}'`
    : `--profile-user ${part.profileUser} --profile-name ${part.profile}`

/** Upstream's activate-rs command line, for the debug line only (src/deploy.rs build_activate_command). @param {Part} part @param {{ dryActivate: boolean, boot: boolean }} o */
function upstreamActivateCommand(part, o) {
  let command = `${part.path}/activate-rs activate '${part.path}' ${profileInfo(part)} --temp-path '/tmp' --confirm-timeout ${part.confirmTimeout}`
  if (part.magicRollback) command += ' --magic-rollback'
  if (part.autoRollback) command += ' --auto-rollback'
  if (o.dryActivate) command += ' --dry-activate'
  if (o.boot) command += ' --boot'
  return sudo(part) + command
}

/** src/deploy.rs build_wait_command. @param {Part} part */
function upstreamWaitCommand(part) {
  const timeout =
    part.activationTimeout === null ? '' : ` --activation-timeout ${part.activationTimeout}`
  return `${sudo(part)}${part.path}/activate-rs wait '${part.path}' --temp-path '/tmp'${timeout}`
}

/** src/lib.rs make_lock_path. @param {Part} part */
const lockPath = part =>
  `/tmp/deploy-rs-canary-${createHash('sha256').update(part.path).digest('hex')}`

/**
 * A panic of the Rust runtime, as the standard library prints it to stderr.
 * @param {string} thread @param {string} location @param {string} value @param {boolean} first
 */
function printPanic(thread, location, value, first) {
  process.stderr.write(
    `thread '${thread}' panicked at /build/source/src/${location}:\n` +
      `called \`Result::unwrap()\` on an \`Err\` value: ${value}\n` +
      (first
        ? 'note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n'
        : '')
  )
}

/**
 * Activates one profile (or dry-activates it) over ssh: serokell/deploy-rs
 * src/deploy.rs `deploy_profile`. Returns the DeployProfileError's text.
 * @param {Part} part @param {NodeScenario} scenario
 * @param {import('./cli.mjs').Options} opts @param {DeployLog} log
 * @returns {Promise<Outcome>}
 */
async function deployProfile(part, scenario, opts, log) {
  const context = {
    node: part.node,
    profile: part.profile,
    path: part.path,
    profilePath: part.profilePath,
    scenario
  }
  const dry = opts.dryActivate
  if (!dry) {
    // src/deploy.rs deploy_profile
    log.info(`Activating profile \`${part.profile}\` for node \`${part.node}\``)
  }
  if (scenario.behaviour === 'killed') killSelf()
  const mode = opts.boot ? 'boot' : 'switch'
  const token = newToken()
  // src/deploy.rs deploy_profile
  log.debug(`Constructed activation command: ${upstreamActivateCommand(part, opts)}`)
  const remoteCommand = dry
    ? dryActivateScript(context)
    : activateScript({
        ...context,
        mode,
        magicRollback: part.magicRollback,
        autoRollback: part.autoRollback,
        confirmTimeout: part.confirmTimeout,
        token
      })

  if (!part.magicRollback || dry || opts.boot) {
    const exit = await runSsh(part, remoteCommand, 'activation')
    // src/deploy.rs DeployProfileError::SSHActivateExit
    if (exit.code !== 0) {
      return failed(`Activating over SSH resulted in a bad exit code: ${some(exit.code)}`)
    }
    // src/deploy.rs deploy_profile
    if (dry) log.info('Completed dry-activate!')
    else if (opts.boot) log.info('Success activating for next boot, done!')
    else log.info('Success activating, done!')
    return OK
  }

  // src/deploy.rs deploy_profile
  log.debug(`Constructed wait command: ${upstreamWaitCommand(part)}`)
  const activation = startSsh(part, remoteCommand, 'activation')
  // src/deploy.rs deploy_profile
  log.info('Creating activation waiter')
  // Neither ssh child is killed when deploy returns early: tokio's Child does
  // not kill on drop, so an early return leaves them running, their output
  // still reaching our stderr after we exited.
  const waiter = startSsh(
    part,
    waitScript({ token, activationTimeout: part.activationTimeout ?? 240 }),
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
    // src/deploy.rs deploy_profile (select!: "Activate command exited with an error")
    log.debug('Activate command exited with an error')
    return failed(`Activating over SSH resulted in a bad exit code: ${some(first.exit.code)}`)
  }
  // src/deploy.rs deploy_profile (select!)
  log.debug('Wait command ended')
  if (first.exit.code !== 0) {
    // src/deploy.rs DeployProfileError::SSHWaitExit
    return failed(`Waiting over SSH resulted in a bad exit code: ${some(first.exit.code)}`)
  }
  // src/deploy.rs deploy_profile
  log.info('Success activating, attempting to confirm activation')

  // src/deploy.rs confirm_profile
  log.debug(`Attempting to run command to confirm deployment: ${sudo(part)}rm ${lockPath(part)}`)
  const confirmed = await runSsh(part, confirmScript({ ...context, token }), 'activation')
  // src/deploy.rs confirm_profile
  if (confirmed.code === 0) log.info('Deployment confirmed.')

  const activated = await activation.exit
  if (activated.code !== 0) {
    // src/deploy.rs deploy_profile: the activation task's `send_activate.send(err).unwrap()`
    // panics (its receiver was dropped by select!), then `recv_activated.await.unwrap()`
    // panics in main: upstream issues #287, #291.
    printPanic(
      'tokio-runtime-worker',
      'deploy.rs:488:41',
      `SSHActivateExit(${some(activated.code)})`,
      true
    )
    printPanic('main', 'deploy.rs:523:30', 'RecvError(())', false)
    return { ok: false, panicked: true }
  }
  if (confirmed.code !== 0) {
    // src/deploy.rs DeployProfileError::Confirm(ConfirmProfileError::SSHConfirmExit)
    return failed(
      `Error confirming deployment: Confirming activation over SSH resulted in a bad exit code (the server should roll back): ${some(confirmed.code)}`
    )
  }
  return OK
}

/**
 * src/deploy.rs `revoke`: activate-rs revoke on a profile that had succeeded.
 * @param {Part} part @param {NodeScenario} scenario @param {DeployLog} log
 * @returns {Promise<string | null>} the RevokeProfileError's text, null when it worked
 */
async function revoke(part, scenario, log) {
  // src/deploy.rs revoke
  log.debug(
    `Constructed revoke command: ${sudo(part)}${part.path}/activate-rs revoke ${profileInfo(part)}`
  )
  const exit = await runSsh(part, revokeScript({ ...part, scenario }), 'activation')
  // src/deploy.rs RevokeProfileError::SSHRevokeExit
  return exit.code === 0
    ? null
    : `Revoking over SSH resulted in a bad exit code: ${some(exit.code)}`
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
 * The activation loop of src/cli.rs `run_deploy`, in the wording of the
 * release the scenario names:
 * - master (d5eff7f): ERROR inner error; `dry run, not rolling back`; with
 *   --rollback-succeeded and --auto-rollback not false `Revoking previous deploys`,
 *   revocations, then RunDeployError::Rollback(node); else
 *   RunDeployError::DeployProfile(node, e). Exit 1.
 * - 2023 (2022-11 .. 2024-06 releases): the same without node names.
 * - 2022 (before 2022-11): `Revoking previous deploys` always, no final line, exit 0.
 * @param {Part[]} parts @param {(node: string) => NodeScenario} scenarioOf
 * @param {import('./cli.mjs').Options} opts @param {DeployLog} log @param {DeployRsVersion} version
 * @returns {Promise<number>} the exit code
 */
async function activateAll(parts, scenarioOf, opts, log, version) {
  /** @type {Part[]} */
  const succeeded = []
  for (const part of parts) {
    const outcome = await deployProfile(part, scenarioOf(part.node), opts, log)
    if (outcome.ok) {
      succeeded.push(part)
      continue
    }
    if ('panicked' in outcome) return 101 // a panic in main
    // src/cli.rs run_deploy
    log.error(outcome.message)
    // src/cli.rs run_deploy
    if (opts.dryActivate) log.info('dry run, not rolling back')
    const revoking = opts.rollbackSucceeded && (opts.autoRollback ?? true)
    // src/cli.rs run_deploy (before 2022-11 printed whether or not it revoked)
    if (revoking || version === '2022') log.info('Revoking previous deploys')
    if (revoking) {
      for (const done of succeeded) {
        if (!done.autoRollback) continue
        const error = await revoke(done, scenarioOf(done.node), log)
        if (error) {
          // src/cli.rs RunDeployError::RevokeProfile
          log.error(
            version === 'master'
              ? `Failed to revoke profile for node ${done.node}: ${error}`
              : `Failed to revoke profile: ${error}`
          )
          return 1
        }
      }
    }
    if (version === '2022') return 0 // src/cli.rs run_deploy: `break`, then Ok(())
    if (revoking) {
      // src/cli.rs RunDeployError::Rollback
      log.error(
        version === 'master'
          ? `Deployment to node ${part.node} failed, rolled back to previous generation`
          : 'Deployment failed, rolled back to previous generation'
      )
    } else {
      // src/cli.rs RunDeployError::DeployProfile
      log.error(
        version === 'master'
          ? `Failed to deploy profile to node ${part.node}: ${outcome.message}`
          : `Failed to deploy profile: ${outcome.message}`
      )
    }
    return 1
  }
  return 0
}

/**
 * src/cli.rs `run` then `run_deploy`; errors end as one ERROR line (src/main.rs) and exit 1.
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
    // src/cli.rs RunError::ParseFlake
    log.error(`Error parsing flake: ${/** @type {Error} */ (err).message}`)
    return 1
  }

  if (!opts.skipChecks) {
    for (const target of targets) {
      // src/flake.rs check_deployment
      log.info(`Running checks for flake in ${target.repo}`)
      const error = await checkFlake(target.repo, opts.extraBuildArgs)
      if (error) {
        // src/cli.rs RunError::CheckDeployment
        log.error(`Failed to check deployment: ${error}`)
        return 1
      }
    }
  }

  /** @type {Part[]} */
  const parts = []
  for (const target of targets) {
    // src/flake.rs get_deployment_data
    log.info(`Evaluating flake in ${target.repo}`)
    const { root, error } = await evaluateFlake(target.repo, opts.extraBuildArgs)
    if (!root) {
      // src/cli.rs RunError::GetDeploymentData
      log.error(`Failed to evaluate deployment data: ${error}`)
      return 1
    }
    try {
      parts.push(...resolveParts(target, root, opts))
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err
      // src/cli.rs RunDeployError (NodeNotFound, ProfileNotFound, DeployDataDefs), printed as is
      log.error(err.message)
      return 1
    }
  }
  const version = parts[0] ? scenarioOf(parts[0].node).deployRsVersion : 'master'

  // src/cli.rs print_deployment / prompt_deployment
  log.info(renderPlan(parts))
  if (opts.interactive) {
    log.info('Are you sure you want to deploy these profiles?')
    process.stdout.write('> ')
    if (!/^(y|yes)$/i.test(readLine().trim())) {
      // src/cli.rs PromptDeploymentError::Cancelled
      log.error('User cancelled deployment')
      return 1
    }
  }

  for (const part of parts) {
    // src/push.rs build_profile
    log.info(`Building profile \`${part.profile}\` for node \`${part.node}\``)
    if (scenarioOf(part.node).behaviour === 'build-fails') {
      // src/cli.rs RunDeployError::BuildProfile (the node name twice)
      log.error(`Failed to build profile on node ${part.node}: ${part.node}`)
      return 1
    }
  }

  for (const part of parts) {
    // src/push.rs push_profile
    log.info(`Copying profile \`${part.profile}\` to node \`${part.node}\``)
    const context = { ...part, scenario: scenarioOf(part.node) }
    const exit = await runSsh(part, pushScript(context), 'push')
    if (exit.code !== 0) {
      // nix copy's own error (nix src/libstore/ssh.cc), after ssh's
      const store = `ssh://${part.sshUser}@${part.hostname}`
      process.stderr.write(
        `error: cannot open connection to remote store '${store}': error: failed to start SSH connection to '${part.sshUser}@${part.hostname}'\n`
      )
      // src/cli.rs RunDeployError::PushProfile (the node name twice)
      log.error(`Failed to push profile to node ${part.node}: ${part.node}`)
      return 1
    }
  }

  return activateAll(parts, scenarioOf, opts, log, version)
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
