import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
// @ts-expect-error: plain JavaScript without declarations (it runs before anything is compiled)
import { distIsFresh, markBuilt } from '../../bin/build-freshness.js'

// `npm start` compiles only when dist/ is older than the sources, and `mailrun` runs dist/ only
// when it is not: a start after a change must never run yesterday's code, and a start without one
// must not compile.

const isFresh = distIsFresh as (root: string) => boolean
const built = markBuilt as (root: string) => void

t.test('dist/ is fresh after a build and stale after any change to what it is built from', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'mailrun-freshness-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const past = new Date(Date.now() - 60_000)
  const file = async (name: string, at = past): Promise<void> => {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await writeFile(path.join(root, name), '')
    await utimes(path.join(root, name), at, at)
  }
  for (const name of ['src/cli/main.ts', 'src/imap/sweeper.ts', 'migrations/0001-init.ts', 'tsconfig.json', 'dist/src/cli/main.js']) await file(name)
  for (const dir of ['src/cli', 'src/imap', 'src', 'migrations']) await utimes(path.join(root, dir), past, past)
  t.notOk(isFresh(root), 'never built')
  await file('dist/.tsbuildinfo', new Date(past.getTime() - 1000))
  t.notOk(isFresh(root), 'built before the sources')
  built(root)
  t.ok(isFresh(root), 'built after them')

  const later = new Date(Date.now() + 5000)
  await utimes(path.join(root, 'src/imap/sweeper.ts'), later, later)
  t.notOk(isFresh(root), 'a changed source')
  built(root)
  await new Promise((resolve) => setTimeout(resolve, 20))
  await rm(path.join(root, 'src/imap/sweeper.ts'))
  t.notOk(isFresh(root), 'a deleted source (its folder changed)')
  built(root)
  await file('tsconfig.json', new Date(Date.now() + 5000))
  t.notOk(isFresh(root), 'changed compiler settings')
  built(root)
  await rm(path.join(root, 'dist/src/cli/main.js'))
  t.notOk(isFresh(root), 'no compiled entry point')
})
