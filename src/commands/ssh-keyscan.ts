import { describeFailure, runCommand, type RunCommand } from './process.js'

export interface KeyscanResult {
  /** known_hosts lines for the host; empty when the scan got nothing. */
  lines: string[]
  /** Why nothing came back, when lines is empty. */
  problem: string | null
}

/** One ssh-keyscan call for one host; stopped when `abortSignal` is aborted (job cancelled). */
export type Keyscan = (
  host: string,
  port: number,
  timeoutSeconds: number,
  abortSignal?: AbortSignal
) => Promise<KeyscanResult>

export function createKeyscan(run: RunCommand = runCommand): Keyscan {
  return async (host, port, timeoutSeconds, abortSignal) => {
    // -T bounds each read; the outer timeout is a backstop should ssh-keyscan itself stall.
    const argv = ['ssh-keyscan', '-T', String(timeoutSeconds), '-p', String(port), '--', host]
    const result = await run(argv, { timeoutMs: (timeoutSeconds + 5) * 1000, abortSignal })
    const lines = result.stdout
      .split('\n')
      .map(line => line.trim())
      .filter(line => line !== '' && !line.startsWith('#') && line.split(/\s+/).length >= 3)
    if (lines.length > 0) return { lines, problem: null }
    if (result.startError || result.timedOut || result.signal) {
      return { lines, problem: describeFailure('ssh-keyscan', result, (timeoutSeconds + 5) * 1000) }
    }
    const said = result.stderr
      .split('\n')
      .map(line => line.trim())
      .filter(line => line !== '' && !line.startsWith('#'))
      .at(-1)
    return {
      lines,
      problem: said
        ? `ssh-keyscan got no host key: ${said}`
        : 'ssh-keyscan got no host key (host down, filtered, or not an ssh server)'
    }
  }
}
