// @ts-check
/**
 * Appends one invocation to the fleet's calls log (env DEPLOY_RS_STAND_IN_CALLS):
 * a JSON line with the tool, argv, cwd and NIX_SSHOPTS. No log file, no logging.
 */
import { appendFileSync } from 'node:fs'

/**
 * @param {'deploy' | 'nix'} tool
 * @param {string[]} argv
 */
export function recordCall(tool, argv) {
  const path = process.env.DEPLOY_RS_STAND_IN_CALLS
  if (!path) return
  /** @type {{ tool: string, argv: string[], cwd: string, env?: { NIX_SSHOPTS?: string } }} */
  const call = { tool, argv, cwd: process.cwd() }
  if (process.env.NIX_SSHOPTS !== undefined) call.env = { NIX_SSHOPTS: process.env.NIX_SSHOPTS }
  // One write of one line with O_APPEND: concurrent runs do not interleave.
  appendFileSync(path, JSON.stringify(call) + '\n')
}
