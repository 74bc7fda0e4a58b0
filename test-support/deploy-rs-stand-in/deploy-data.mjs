// @ts-check
/**
 * The flake side of a deploy: the REAL `nix flake check` and `nix eval` (nix
 * from PATH, so the fleet's wrapper logs them), settings merged like deploy-rs
 * (profile over node over top level; sshOpts appended; command line wins),
 * and the plan printed before deploying.
 */
import { spawn } from 'node:child_process'
import { userInfo } from 'node:os'

const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes']

/**
 * Runs nix with stderr passed through; stdout captured when asked.
 * @param {string[]} args
 * @param {boolean} captureStdout
 * @returns {Promise<{ code: number | null, stdout: string }>}
 */
function runNix(args, captureStdout) {
  return new Promise(resolve => {
    const child = spawn('nix', [...NIX_FEATURES, ...args], {
      stdio: ['ignore', captureStdout ? 'pipe' : 'inherit', 'inherit']
    })
    let stdout = ''
    child.stdout?.setEncoding('utf8').on('data', d => (stdout += d))
    child.on('error', err => {
      process.stderr.write(`failed to run nix: ${err.message}\n`)
      resolve({ code: null, stdout })
    })
    child.on('close', code => resolve({ code, stdout }))
  })
}

/** @param {number | null} code */
const some = code => (code === null ? 'None' : `Some(${code})`)

/**
 * @param {string} repo
 * @param {string[]} extraArgs
 * @returns {Promise<string | null>} an error message, null when the checks pass
 */
export async function checkFlake(repo, extraArgs) {
  const { code } = await runNix(['flake', 'check', repo, ...extraArgs], false)
  // serokell/deploy-rs src/flake.rs CheckDeploymentError::NixCheckExit
  return code === 0 ? null : `Nix checking command resulted in a bad exit code: ${some(code)}`
}

// Everything the stand-in needs from `deploy`, without building anything.
const APPLY = `d:
let
  settings = s: {
    hostname = s.hostname or null;
    sshUser = s.sshUser or null;
    user = s.user or null;
    sshOpts = s.sshOpts or [ ];
    magicRollback = s.magicRollback or null;
    autoRollback = s.autoRollback or null;
    confirmTimeout = s.confirmTimeout or null;
    activationTimeout = s.activationTimeout or null;
  };
in settings d // {
  nodes = builtins.mapAttrs (_: n: settings n // {
    profilesOrder = n.profilesOrder or [ ];
    profiles = builtins.mapAttrs (_: p: settings p // {
      path = p.path;
      profilePath = p.profilePath or null;
    }) (n.profiles or { });
  }) (d.nodes or { });
}`

/**
 * @typedef {{ hostname: string | null, sshUser: string | null, user: string | null,
 *   sshOpts: string[], magicRollback: boolean | null, autoRollback: boolean | null,
 *   confirmTimeout: number | null, activationTimeout: number | null }} Settings
 * @typedef {Settings & { path: string, profilePath: string | null }} ProfileData
 * @typedef {Settings & { profilesOrder: string[], profiles: Record<string, ProfileData> }} NodeData
 * @typedef {Settings & { nodes: Record<string, NodeData> }} DeployRoot
 */

/**
 * @param {string} repo
 * @param {string[]} extraArgs
 * @returns {Promise<{ root?: DeployRoot, error?: string }>}
 */
export async function evaluateFlake(repo, extraArgs) {
  const { code, stdout } = await runNix(
    ['eval', '--json', `${repo}#deploy`, '--apply', APPLY, ...extraArgs],
    true
  )
  // serokell/deploy-rs src/flake.rs GetDeploymentDataError::NixEvalExit
  if (code !== 0) return { error: `Evaluation resulted in a bad exit code: ${some(code)}` }
  try {
    return { root: JSON.parse(stdout) }
  } catch (err) {
    return { error: `Failed to parse the evaluation's JSON: ${/** @type {Error} */ (err).message}` }
  }
}

/**
 * One profile to deploy, with merged settings.
 * @typedef {{ node: string, profile: string, path: string, profilePath: string | null,
 *   hostname: string, sshUser: string,
 *   profileUser: string, sshOpts: string[], magicRollback: boolean, autoRollback: boolean,
 *   confirmTimeout: number, activationTimeout: number | null }} Part
 */

/** A target deploy-rs cannot resolve; the message is deploy-rs's whole ERROR line. */
export class ResolveError extends Error {}

/**
 * @param {import('./target.mjs').Target} target
 * @param {DeployRoot} root
 * @param {import('./cli.mjs').Options} cli
 * @returns {Part[]}
 */
export function resolveParts(target, root, cli) {
  const nodeNames = target.node === undefined ? Object.keys(root.nodes) : [target.node]
  /** @type {Part[]} */
  const parts = []
  for (const nodeName of nodeNames) {
    const node = root.nodes[nodeName]
    if (!node || !Object.hasOwn(root.nodes, nodeName)) {
      // serokell/deploy-rs src/cli.rs RunDeployError::NodeNotFound
      throw new ResolveError(`No node named \`${nodeName}\` was found`)
    }
    const ordered = [
      ...node.profilesOrder,
      ...Object.keys(node.profiles).filter(p => !node.profilesOrder.includes(p))
    ]
    const profileNames = target.profile === undefined ? ordered : [target.profile]
    for (const profileName of profileNames) {
      const profile = node.profiles[profileName]
      if (!profile || !Object.hasOwn(node.profiles, profileName)) {
        // serokell/deploy-rs src/cli.rs RunDeployError::ProfileNotFound
        throw new ResolveError(`No profile named \`${profileName}\` was found`)
      }
      parts.push(mergePart(root, nodeName, node, profileName, profile, cli))
    }
  }
  return parts
}

/**
 * @param {DeployRoot} root @param {string} nodeName @param {NodeData} node
 * @param {string} profileName @param {ProfileData} profile
 * @param {import('./cli.mjs').Options} cli
 * @returns {Part}
 */
function mergePart(root, nodeName, node, profileName, profile, cli) {
  /** @template T @param {(s: Settings) => T | null} get @returns {T | null} */
  const pick = get => get(profile) ?? get(node) ?? get(root)
  const hostname = cli.hostname ?? node.hostname
  // serokell/deploy-rs src/data.rs: `hostname` is a required field of the node
  if (!hostname) {
    throw new ResolveError(
      'Failed to evaluate deployment data: Error decoding the JSON from evaluation: missing field `hostname`'
    )
  }
  const sshUser = cli.sshUser ?? pick(s => s.sshUser) ?? userInfo().username
  const profileUser = cli.profileUser ?? pick(s => s.user) ?? pick(s => s.sshUser)
  if (!profileUser) {
    // serokell/deploy-rs src/cli.rs RunDeployError::DeployDataDefs (src/lib.rs DeployDataDefsError)
    throw new ResolveError(
      `Error processing deployment definitions: Neither \`user\` nor \`sshUser\` are set for profile ${profileName} of node ${nodeName}`
    )
  }
  const sshOpts =
    cli.sshOpts !== undefined
      ? cli.sshOpts.split(' ') // replaces, like deploy-rs: not appended, split on single spaces
      : [...profile.sshOpts, ...node.sshOpts, ...root.sshOpts]
  return {
    node: nodeName,
    profile: profileName,
    path: profile.path,
    // src/data.rs ProfileSettings profile_path (`profilePath`), a profile-only setting
    profilePath: profile.profilePath ?? null,
    hostname,
    sshUser,
    profileUser,
    sshOpts,
    magicRollback: cli.magicRollback ?? pick(s => s.magicRollback) ?? true,
    autoRollback: cli.autoRollback ?? pick(s => s.autoRollback) ?? true,
    confirmTimeout: cli.confirmTimeout ?? pick(s => s.confirmTimeout) ?? 30,
    activationTimeout: cli.activationTimeout ?? pick(s => s.activationTimeout)
  }
}

/** @param {string} key */
const tomlKey = key => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key))
/** @param {string} value */
const tomlString = value => JSON.stringify(value)

/**
 * The plan as deploy-rs prints it: a TOML table per node and profile.
 * @param {Part[]} parts
 */
export function renderPlan(parts) {
  const tables = parts.map(p =>
    [
      `[${tomlKey(p.node)}.${tomlKey(p.profile)}]`,
      `user = ${tomlString(p.profileUser)}`,
      `ssh_user = ${tomlString(p.sshUser)}`,
      `path = ${tomlString(p.path)}`,
      `hostname = ${tomlString(p.hostname)}`,
      `ssh_opts = [${p.sshOpts.map(tomlString).join(', ')}]`,
      ''
    ].join('\n')
  )
  return `The following profiles are going to be deployed:\n${tables.join('\n')}`
}
