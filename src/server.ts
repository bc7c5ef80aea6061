// `npm start` runs this file; `mailrun start` runs the same function.
import { start } from './cli/start.js'

await start()
