#!/usr/bin/env node
// `npm run build` compiles src/ and migrations/ into dist/; `--if-stale` (what `npm install` and
// `npm start` run) compiles only when the sources changed since the last build, so a start costs
// no compilation (about 2 s even when incremental tsc has nothing to do; 10 s from nothing).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { distIsFresh, markBuilt } from '../bin/build-freshness.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const templateFile = path.join(root, 'dist', 'pglite-template.tar.gz')
if (process.argv.includes('--if-stale') && distIsFresh(root)) {
  // A build from before the template existed gets one; a fresh build with it has nothing to do.
  if (!existsSync(templateFile)) await makeTemplate()
  process.exit(0)
}
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
await makeTemplate()

/**
 * The embedded database's first start unpacks a migrated data directory made here (src/db/
 * pglite-template.ts) instead of running initdb in the server (~720 MB resident for good). A build
 * without it still works: that first start runs initdb.
 */
async function makeTemplate () {
  try {
    const { writePGliteTemplate } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'db', 'pglite-template.js')).href)
    const { pgliteStartParams } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'db', 'database.js')).href)
    await writePGliteTemplate(await pgliteStartParams(), templateFile)
  } catch (error) {
    process.stderr.write(`mailrun: could not make the embedded database template (${error instanceof Error ? error.message : String(error)}); a first start will run initdb instead\n`)
  }
}
