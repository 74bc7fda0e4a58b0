import { readdir, readFile } from 'node:fs/promises'

/**
 * Every process the main step starts carries this variable (set to its
 * workspace), and so do their children (ssh, nix). If the main step was
 * killed outright, the post step finds them by it and stops them.
 */
export const WORKSPACE_MARKER = 'DEPLOY_RS_ACTION_WORKSPACE'

/** Pids of live processes whose environment holds MARKER=workspace (Linux /proc; elsewhere none). */
export async function findMarkedProcesses(workspace: string, procDir = '/proc'): Promise<number[]> {
  const needle = `\0${WORKSPACE_MARKER}=${workspace}\0`
  const entries = await readdir(procDir).catch(() => [] as string[])
  const found: number[] = []
  await Promise.all(
    entries
      .filter(entry => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .map(async entry => {
        const environ = await readFile(`${procDir}/${entry}/environ`, 'utf8').catch(() => '')
        // environ is NUL-separated; framing it matches whole entries only.
        if (`\0${environ}\0`.includes(needle)) found.push(Number(entry))
      })
  )
  return found
}

/** SIGKILLs the given pids, ignoring those that are gone; returns how many were signalled. */
export function killProcesses(pids: readonly number[]): number {
  let killed = 0
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
      killed++
    } catch {
      // already gone
    }
  }
  return killed
}
