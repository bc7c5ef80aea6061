#!/usr/bin/env node
// `npm run build` compiles src/ and migrations/ into dist/; `--if-stale` (what `npm install` and
// `npm start` run) compiles only when the sources changed since the last build, so a start costs
// no compilation (about 2 s even when incremental tsc has nothing to do; 10 s from nothing).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { distIsFresh, markBuilt } from '../bin/build-freshness.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
if (process.argv.includes('--if-stale') && distIsFresh(root)) process.exit(0)
let tsc
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  // `npm install --omit=dev` leaves the compiler out: installing must not fail for that.
  process.stderr.write('mailrun: TypeScript is not installed (npm install without --omit=dev), so src/ was not compiled into dist/\n')
  process.exit(process.argv.includes('--at-install') ? 0 : 1)
}
const built = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' })
if (built.status !== 0) process.exit(built.status ?? 1)
markBuilt(root)
