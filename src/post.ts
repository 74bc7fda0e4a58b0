/** Entry point of the post step (action.yml `runs.post`): removes the workspace, whatever happened. */
import { cleanup } from './cleanup.js'

await cleanup()
