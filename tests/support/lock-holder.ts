import { lockDataDir } from '../../src/db/data-dir-lock.js'

// A mailrun-like process that takes a data directory's lock and holds it until it is killed.
await lockDataDir(process.argv[2] ?? '')
process.stdout.write('locked\n')
setInterval(() => {}, 60_000)
