/** Entry point of the main step (action.yml `runs.main`). */
import { run } from './main.js'

const end = await run()
// After a cancel, API calls or a process outside deploy-rs's group that the report gave up on
// must not keep the step alive until the runner kills it (the exit code is already set).
if (end.cancelled) process.exit()
