import * as core from '@actions/core'

/** Everything main hands to the post step, in one place. */
const WORKSPACE = 'workspace'

/** Saved BEFORE the directory exists, so post cleans up even after a crash mid-creation. */
export function saveWorkspacePath(path: string): void {
  core.saveState(WORKSPACE, path)
}

export function workspacePath(): string {
  return core.getState(WORKSPACE)
}
