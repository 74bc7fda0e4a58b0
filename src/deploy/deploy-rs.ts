import { which } from '@actions/io'
import { NIX_FEATURES, type Nix } from '../commands/nix.js'
import { ExpectedError } from '../errors.js'

/** The deploy-rs command cannot be run at all: no node is started with it. */
export class DeployRsError extends ExpectedError {}

export interface DeployRsChoice {
  argv: string[]
  /** Why this command was chosen, for the log. */
  reason: string
  /** True when the command is not pinned by anything (a warning for the user). */
  unpinned: boolean
}

/**
 * Picks the deploy-rs command: the user's, else `deploy` on PATH, else the
 * flake's own deploy-rs input (its activate-rs must match, upstream #100,
 * #235), else upstream master.
 */
export async function chooseDeployRs(
  configured: readonly string[] | null,
  flake: string,
  nix: Nix,
  findExecutable: (program: string) => Promise<string | null> = findOnPath,
  abortSignal?: AbortSignal
): Promise<DeployRsChoice> {
  if (configured) {
    // Checked once here, so a typo gives one clear error instead of a failure per node.
    const program = configured[0]
    if ((await findExecutable(program)) === null) {
      const where = program.includes('/')
        ? 'does not exist or is not executable'
        : 'was not found on PATH'
      throw new DeployRsError(
        `deploy-rs: the command ${program} ${where}; set the deploy-rs input to a command that runs deploy-rs (e.g. 'deploy' or 'nix run github:serokell/deploy-rs --'), or leave it empty to detect one.`
      )
    }
    return { argv: [...configured], reason: 'from the deploy-rs input', unpinned: false }
  }
  const onPath = await findExecutable('deploy')
  if (onPath) return { argv: ['deploy'], reason: `deploy on PATH (${onPath})`, unpinned: false }
  if (await nix.hasDeployRsInput(flake, abortSignal)) {
    return {
      argv: ['nix', ...NIX_FEATURES, 'run', '--inputs-from', flake, 'deploy-rs', '--'],
      reason: "the flake's own deploy-rs input, pinned by its lock file",
      unpinned: false
    }
  }
  return {
    argv: ['nix', ...NIX_FEATURES, 'run', 'github:serokell/deploy-rs', '--'],
    reason:
      'github:serokell/deploy-rs (UNPINNED: add deploy-rs as a flake input, or set the deploy-rs input, to pin it)',
    unpinned: true
  }
}

/** A program's path (on PATH, or as given when it holds a '/'), or null when it is not an executable file. */
async function findOnPath(program: string): Promise<string | null> {
  return (await which(program, false)) || null
}
