#!/usr/bin/env node
// The `mailrun` command. It runs the compiled JavaScript (dist/, written by `npm run build` and by
// `npm start`) when that is at least as new as the sources, else the TypeScript sources through
// tsx: a checkout that was changed and not rebuilt must not run yesterday's code (or migrations).
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const compiled = path.join(root, 'dist', 'src', 'cli', 'main.js')
const buildInfo = path.join(root, 'dist', '.tsbuildinfo')

function newestSource (dir) {
  let newest = 0
  if (!existsSync(dir)) return newest
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs)
  }
  return newest
}

const fresh = existsSync(compiled) && existsSync(buildInfo) &&
  statSync(buildInfo).mtimeMs >= Math.max(newestSource(path.join(root, 'src')), newestSource(path.join(root, 'migrations')))

let cli
if (fresh) {
  cli = await import(pathToFileURL(compiled).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  cli = await import(pathToFileURL(path.join(root, 'src', 'cli', 'main.ts')).href)
}
await cli.run(process.argv.slice(2))
