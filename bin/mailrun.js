#!/usr/bin/env node
// The `mailrun` command. It runs the compiled JavaScript (dist/, written by `npm run build` and by
// `npm start`) when that is at least as new as the sources, else the TypeScript sources through
// tsx: a checkout that was changed and not rebuilt must not run yesterday's code (or migrations).
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { distIsFresh } from './build-freshness.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const compiled = path.join(root, 'dist', 'src', 'cli', 'main.js')
const fresh = distIsFresh(root)

let cli
if (fresh) {
  cli = await import(pathToFileURL(compiled).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  cli = await import(pathToFileURL(path.join(root, 'src', 'cli', 'main.ts')).href)
}
await cli.run(process.argv.slice(2))
