/**
 * The calls log: one JSON object per line, appended by the stand-in `deploy`
 * and by the `nix` wrapper for every invocation (argv, cwd, NIX_SSHOPTS).
 */
import { readFile } from 'node:fs/promises'
import type { FleetCall } from './types.js'

export async function readCalls(path: string): Promise<FleetCall[]> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => JSON.parse(line) as FleetCall)
}
