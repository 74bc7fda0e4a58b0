import type { PlannedNode } from '../plan/targets.js'

export interface DeployCommandOptions {
  /** The deploy-rs command as words (e.g. ['deploy'] or ['nix', 'run', ..., '--']). */
  deployRs: readonly string[]
  deployArgs: { readonly deploy: readonly string[]; readonly nix: readonly string[] }
  flake: string
  dryRun: boolean
  sshUser: string | null
  /** Complete ssh options for this node (workspace options ++ node sshOpts). */
  sshOpts: readonly string[]
}

/**
 * The argument vector of one deploy-rs call for one node. Checks already ran
 * once for the whole run, so every call skips them.
 */
export function deployArgv(node: PlannedNode, options: DeployCommandOptions): string[] {
  const targets = node.wholeNode
    ? [flakeTarget(options.flake, node.name)]
    : node.targetProfiles.map(profile => flakeTarget(options.flake, node.name, profile))
  return [
    ...options.deployRs,
    ...options.deployArgs.deploy,
    '--skip-checks',
    // A failed dry activation must not roll back the REAL generations of earlier profiles.
    ...(options.dryRun ? ['--dry-activate', '--rollback-succeeded', 'false'] : []),
    ...(options.sshUser ? ['--ssh-user', options.sshUser] : []),
    // One word: deploy-rs splits the value on single spaces itself.
    `--ssh-opts=${options.sshOpts.join(' ')}`,
    ...(targets.length === 1 ? targets : ['--targets', ...targets]),
    ...(options.deployArgs.nix.length > 0 ? ['--', ...options.deployArgs.nix] : [])
  ]
}

/** `FLAKE#node` or `FLAKE#node.profile`, quoting names that hold dots as deploy-rs expects. */
export function flakeTarget(flake: string, node: string, profile?: string): string {
  const fragment =
    profile === undefined ? quoteName(node) : `${quoteName(node)}.${quoteName(profile)}`
  return `${flake}#${fragment}`
}

function quoteName(name: string): string {
  return /^[A-Za-z0-9_'-]+$/.test(name) ? name : `"${name}"`
}
