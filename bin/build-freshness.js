// Whether dist/ (the compiled JavaScript) is as new as the TypeScript sources, shared by the
// `mailrun` command (which runs dist/ only then) and `npm start`'s build step (which compiles only
// when it is not). Plain JavaScript: it runs before anything is compiled.
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs'
import path from 'node:path'

/** The newest modification time under `dir`, directories included (deleting a file changes its directory's). */
function newestUnder (dir) {
  if (!existsSync(dir)) return 0
  let newest = statSync(dir).mtimeMs
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(full) : statSync(full).mtimeMs)
  }
  return newest
}

const stampOf = (root) => path.join(root, 'dist', '.tsbuildinfo')

/** True when dist/ holds a build made after the last change to src/, migrations/ or the TypeScript settings. */
export function distIsFresh (root) {
  const stamp = stampOf(root)
  if (!existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js')) || !existsSync(stamp)) return false
  const sources = Math.max(newestUnder(path.join(root, 'src')), newestUnder(path.join(root, 'migrations')),
    ...['tsconfig.json', 'tsconfig.build.json'].map((f) => existsSync(path.join(root, f)) ? statSync(path.join(root, f)).mtimeMs : 0))
  return statSync(stamp).mtimeMs >= sources
}

/**
 * Marks dist/ as built now. tsc leaves its build info untouched when nothing it compiles changed
 * (a checkout that only touched files), which would leave dist/ looking stale for good.
 */
export function markBuilt (root) {
  const now = new Date()
  utimesSync(stampOf(root), now, now)
}
