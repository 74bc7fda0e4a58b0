// @ts-check
/**
 * Runs `ssh` the way deploy-rs does: an argv, no shell, no options of its own.
 * Activation sessions get `USER@HOST OPTS... CMD` (deploy-rs's order; OpenSSH
 * accepts options after the destination); pushes get `OPTS... USER@HOST CMD`
 * with NIX_SSHOPTS set, as `nix copy --to ssh://...` would run it. Remote
 * stdout/stderr go straight to ours: streamed, never buffered here.
 */
import { spawn } from 'node:child_process'

/**
 * @typedef {{ code: number | null, signal: NodeJS.Signals | null }} Exit
 * @typedef {{ child: import('node:child_process').ChildProcess, exit: Promise<Exit> }} Session
 */

/**
 * @param {import('./deploy-data.mjs').Part} part
 * @param {string} command
 * @param {'activation' | 'push'} kind
 * @returns {Session}
 */
export function startSsh(part, command, kind) {
  const destination = `${part.sshUser}@${part.hostname}`
  const args =
    kind === 'push'
      ? [...part.sshOpts, destination, command]
      : [destination, ...part.sshOpts, command]
  const env =
    kind === 'push' ? { ...process.env, NIX_SSHOPTS: part.sshOpts.join(' ') } : process.env
  const child = spawn('ssh', args, { stdio: ['ignore', 'inherit', 'inherit'], env })
  /** @type {Promise<Exit>} */
  const exit = new Promise(resolve => {
    child.on('error', err => {
      process.stderr.write(`failed to run ssh: ${err.message}\n`)
      resolve({ code: null, signal: null })
    })
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, exit }
}

/**
 * @param {import('./deploy-data.mjs').Part} part
 * @param {string} command
 * @param {'activation' | 'push'} kind
 */
export function runSsh(part, command, kind) {
  return startSsh(part, command, kind).exit
}
