import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { DataDirLocked, lockDataDir } from '../../src/db/data-dir-lock.js'
import { repoRoot } from '../support/process.js'

// The embedded database's lock after kill -9 (#28 item 2): a holder killed while its parent does
// not reap it (a container without an init) leaves a zombie whose pid still exists. A new start
// right after must take the lock over, and a live holder must still keep it.

t.test('a lock held by a killed process that nobody reaped (a zombie) is taken over at once; a live holder keeps it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-lock-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // sh starts the holder in the background, then becomes `sleep`, which never reaps it.
  const holder = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(path.join(repoRoot, 'tests/support/lock-holder.ts'))} ${JSON.stringify(dir)}`
  const parent = spawn('sh', ['-c', `${holder} & echo "holder $!"; exec sleep 60`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { parent.kill('SIGKILL') })
  let output = ''
  parent.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const until = Date.now() + 30_000
  while (!/locked/.test(output) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  const pid = Number(/holder (\d+)/.exec(output)?.[1])
  t.match(JSON.parse(await readFile(path.join(dir, 'mailrun.lock'), 'utf8')), { pid }, 'the holder has the lock')

  const refused = await lockDataDir(dir).catch((error: unknown) => error)
  t.ok(refused instanceof DataDirLocked, 'a live holder keeps it')
  t.match((refused as Error).message, new RegExp(`process ${pid}`))

  process.kill(pid, 'SIGKILL')
  const killedAt = Date.now()
  while (Date.now() - killedAt < 5_000) {
    const state = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.[0]
    if (state === 'Z') break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.[0], 'Z', 'the holder is a zombie: its pid still exists')
  // A new start right after the kill (the issue: within one second) takes the lock.
  const lock = await lockDataDir(dir)
  t.comment(`taken over ${Date.now() - killedAt} ms after the kill`)
  t.match(JSON.parse(await readFile(lock.path, 'utf8')), { pid: process.pid })
  await lock.release()
})

t.test('a lock naming a pid that now belongs to another process is taken over', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-lock-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const { writeFile } = await import('node:fs/promises')
  // Our parent's pid with a start time it never had: a holder that died and whose pid was reused.
  await writeFile(path.join(dir, 'mailrun.lock'), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), startedAt: '2026-01-01T00:00:00Z', started: '1' }))
  const lock = await lockDataDir(dir)
  t.match(JSON.parse(await readFile(lock.path, 'utf8')), { pid: process.pid })
  await lock.release()
})
