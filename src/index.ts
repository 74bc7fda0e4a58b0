/** Entry point of the main step (action.yml `runs.main`). */
import { run } from './main.js'

await run()
