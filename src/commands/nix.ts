import { ExpectedError } from '../errors.js'
import { describeFailure, lastLines, runCommand, type RunCommand } from './process.js'

/** Flags that make old Nix (e.g. Debian's 2.8) accept flakes; harmless on newer Nix. */
export const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes']

/**
 * Lists every node without building anything: `path` is never forced.
 * sshOpts append node ++ top-level, as deploy-rs does.
 */
const INVENTORY_EXPRESSION = `d: builtins.mapAttrs (name: n: {
  hostname = n.hostname or null;
  sshUser = n.sshUser or d.sshUser or null;
  sshOpts = (n.sshOpts or [ ]) ++ (d.sshOpts or [ ]);
  profiles = builtins.attrNames (n.profiles or { });
  profilesOrder = n.profilesOrder or [ ];
}) (d.nodes or { })`

/** A nix command that failed: a one-line reason plus the tail of its output. */
export class NixError extends ExpectedError {
  constructor(
    message: string,
    readonly outputTail: string[]
  ) {
    super(message)
  }
}

export interface FlakeCheckResult {
  ok: boolean
  /** One line saying why it failed, or null. */
  reason: string | null
  /** Last lines of what `nix flake check` printed. */
  outputTail: string[]
}

/** The nix calls the action makes, each once per run. */
export interface Nix {
  /** `nix eval --json FLAKE#deploy --apply ...`: the raw JSON of every node. */
  evalDeployNodes(
    flake: string,
    nixArgs: readonly string[],
    abortSignal?: AbortSignal
  ): Promise<unknown>
  flakeCheck(
    flake: string,
    nixArgs: readonly string[],
    abortSignal?: AbortSignal
  ): Promise<FlakeCheckResult>
  /** True when the flake's lock file has a root input named deploy-rs. */
  hasDeployRsInput(flake: string, abortSignal?: AbortSignal): Promise<boolean>
}

const EVAL_TIMEOUT_MS = 10 * 60_000
const CHECK_TIMEOUT_MS = 60 * 60_000
const METADATA_TIMEOUT_MS = 2 * 60_000

export function createNix(run: RunCommand = runCommand, nixProgram = 'nix'): Nix {
  return {
    async evalDeployNodes(flake, nixArgs, abortSignal) {
      const argv = [
        nixProgram,
        ...NIX_FEATURES,
        'eval',
        '--json',
        `${flake}#deploy`,
        '--apply',
        INVENTORY_EXPRESSION,
        ...nixArgs
      ]
      const result = await run(argv, { timeoutMs: EVAL_TIMEOUT_MS, abortSignal })
      if (result.code !== 0) {
        const tail = lastLines(result.stderr, 30)
        const detail = tail.filter(line => /error/i.test(line)).at(-1) ?? tail.at(-1) ?? ''
        throw new NixError(
          `could not evaluate the deploy nodes of flake '${flake}': ${describeFailure(nixProgram, result, EVAL_TIMEOUT_MS)}${detail ? `: ${detail.trim()}` : ''}`,
          tail
        )
      }
      try {
        return JSON.parse(result.stdout) as unknown
      } catch {
        throw new NixError(
          `nix eval of flake '${flake}' printed something that is not JSON`,
          lastLines(result.stdout, 5)
        )
      }
    },

    async flakeCheck(flake, nixArgs, abortSignal) {
      const argv = [nixProgram, ...NIX_FEATURES, 'flake', 'check', flake, ...nixArgs]
      const result = await run(argv, { timeoutMs: CHECK_TIMEOUT_MS, abortSignal })
      const outputTail = lastLines(`${result.stdout}\n${result.stderr}`, 60)
      if (result.code === 0) return { ok: true, reason: null, outputTail }
      return {
        ok: false,
        reason: `nix flake check failed: ${describeFailure(nixProgram, result, CHECK_TIMEOUT_MS)}`,
        outputTail
      }
    },

    async hasDeployRsInput(flake, abortSignal) {
      const argv = [nixProgram, ...NIX_FEATURES, 'flake', 'metadata', '--json', flake]
      const result = await run(argv, { timeoutMs: METADATA_TIMEOUT_MS, abortSignal })
      if (result.code !== 0) return false
      try {
        const metadata = JSON.parse(result.stdout) as {
          locks?: { nodes?: { root?: { inputs?: Record<string, unknown> } } }
        }
        return Object.hasOwn(metadata.locks?.nodes?.root?.inputs ?? {}, 'deploy-rs')
      } catch {
        return false
      }
    }
  }
}
