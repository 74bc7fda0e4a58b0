import * as core from '@actions/core'
import { findMarkedProcesses, killProcesses } from './commands/leftover-processes.js'
import { removeWorkspace } from './ssh/workspace.js'
import { workspacePath } from './state.js'

/**
 * Stops anything the main step left running (it may have been killed
 * outright) and removes the keys, known_hosts, ssh config and logs.
 * Only ever warns: cleanup never fails a job.
 */
export async function cleanup(dir: string = workspacePath()): Promise<void> {
  if (!dir) {
    core.info('Nothing to clean up: the main step created no workspace.')
    return
  }
  try {
    const stopped = killProcesses(await findMarkedProcesses(dir))
    if (stopped > 0)
      core.warning(
        `Stopped ${stopped} process(es) the main step left running (ssh, nix or deploy-rs).`
      )
    if (await removeWorkspace(dir))
      core.info(`Removed ${dir} (keys, known_hosts, ssh config, logs).`)
    else core.warning(`Not removing ${dir}: it is not a deploy-rs-action workspace.`)
  } catch (error) {
    core.warning(
      `Could not clean up ${dir}: ${error instanceof Error ? error.message : String(error)}`
    )
  }
}
