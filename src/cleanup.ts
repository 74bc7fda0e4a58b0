import * as core from '@actions/core'
import { removeWorkspace } from './ssh/workspace.js'
import { workspacePath } from './state.js'

/** Removes the keys, known_hosts, ssh config and logs. Only ever warns: cleanup never fails a job. */
export async function cleanup(dir: string = workspacePath()): Promise<void> {
  if (!dir) {
    core.info('Nothing to clean up: the main step created no workspace.')
    return
  }
  try {
    if (await removeWorkspace(dir)) core.info(`Removed ${dir} (keys, known_hosts, ssh config, logs).`)
    else core.warning(`Not removing ${dir}: it is not a deploy-rs-action workspace.`)
  } catch (error) {
    core.warning(`Could not remove ${dir}: ${error instanceof Error ? error.message : String(error)}`)
  }
}
