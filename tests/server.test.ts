import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { createTestDatabase, testDatabaseKind } from './support/database.js'
import { freePort } from './support/net.js'
import { startServer, type RunningProcess } from './support/process.js'

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-server-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

function stopOnTeardown (t: Test, server: RunningProcess): void {
  t.teardown(() => { if (server.child.exitCode === null) server.child.kill('SIGKILL') })
}

async function servesAndStops (t: Test, env: Record<string, string>, database: RegExp): Promise<RunningProcess> {
  const server = startServer({ HOST: '127.0.0.1', PORT: '0', ...env })
  stopOnTeardown(t, server)
  const [line, url] = await server.waitFor(/mailrun listening on (http:\/\/127\.0\.0\.1:\d+), database: ([^"\n]+)/, 90000)
  const adminKey = /^ {4}(mra_\S+)$/m.exec(server.output())?.[1]
  if (adminKey !== undefined) {
    const tenants = await fetch(`${url}/api/v1/tenants`, { headers: { authorization: `Bearer ${adminKey}` } })
    t.equal(tenants.status, 200, 'the printed admin key works')
  }
  t.match(line, database, 'the start-up line names the database')
  t.match(line, /; console http:\/\/\S+\/console, API docs http:\/\/\S+\/docs/, 'and where the console and the API docs are')
  const health = await fetch(`${url}/healthz`)
  t.equal(health.status, 200)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.notMatch(server.output(), /"url":"\/healthz"/, 'a health probe is not logged at info')
  t.match(server.output(), /MAILRUN_PUBLIC_URL points at this machine/, 'a localhost public URL is called out at start')
  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 200)
  t.same(await ready.json(), { status: 'ok' })

  server.child.kill('SIGTERM')
  const { code } = await server.exited
  t.equal(code, 0, 'exits cleanly on SIGTERM')
  t.match(server.output(), /received SIGTERM, shutting down/)
  t.notMatch(server.output(), /^\s+at /m, 'no stack trace')
  return server
}

t.test('started as npm start does, on PGlite in an empty directory, it serves and exits cleanly on SIGTERM', async (t) => {
  const dataDir = await tempDir(t)
  const first = await servesAndStops(t, { MAILRUN_DATA_DIR: dataDir }, new RegExp(`database: PGlite in ${dataDir}/pgdata`))
  t.match(first.output(), /generated the instance-admin API key \(shown only this once; only its hash is stored\)/)
  t.match(first.output(), /generated the secret key for stored credentials at /)
  t.equal((await stat(path.join(dataDir, 'secret.key'))).mode & 0o777, 0o600, 'the key file is readable by its owner only')
  t.notMatch(first.output().split('\n').filter((l) => l.startsWith('{')).join('\n'), /mra_/, 'the admin key never enters the JSON log')

  const second = await servesAndStops(t, { MAILRUN_DATA_DIR: dataDir }, /database: PGlite in /)
  t.notMatch(second.output(), /mra_/, 'a second start prints no key')
  t.notMatch(second.output(), /generated/, 'and generates nothing')
})

t.test('with DATABASE_URL it uses that PostgreSQL server', { skip: testDatabaseKind !== 'postgres' && 'needs TEST_DATABASE_URL' }, async (t) => {
  const database = await createTestDatabase(t, { migrate: false })
  await servesAndStops(t, { DATABASE_URL: database.url ?? '', MAILRUN_SECRET_KEY: randomBytes(32).toString('base64'), MAILRUN_ADMIN_KEY: 'mra_an-admin-key-chosen-by-the-operator' }, /database: PostgreSQL at 127\.0\.0\.1:5432\/mailrun_test_/)
})

t.test('with DATABASE_URL but no MAILRUN_SECRET_KEY it refuses to start and says how to make one', { skip: testDatabaseKind !== 'postgres' && 'needs TEST_DATABASE_URL' }, async (t) => {
  const database = await createTestDatabase(t, { migrate: false })
  const server = startServer({ DATABASE_URL: database.url ?? '', PORT: '0' })
  stopOnTeardown(t, server)
  t.equal((await server.exited).code, 1)
  t.match(server.output(), /MAILRUN_SECRET_KEY is required with DATABASE_URL \(every replica must share it\); generate one with: openssl rand -base64 32/)
  const tables = await database.db.selectFrom('information_schema.tables' as never).select('table_name' as never).where('table_schema' as never, '=', 'public' as never).execute()
  t.same(tables, [], 'and said so before touching the database: no migration ran')
})

t.test('the whole configuration is checked before the database: a missing MAILRUN_SECRET_KEY is named even when DATABASE_URL is unreachable', async (t) => {
  const server = startServer({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/mailrun`, PORT: '0' })
  stopOnTeardown(t, server)
  t.equal((await server.exited).code, 1)
  t.match(server.output(), /MAILRUN_SECRET_KEY is required with DATABASE_URL/)
  t.notMatch(server.output(), /cannot open the database/)
})

t.test('a wrong variable stops start-up with a message naming it, no stack trace', async (t) => {
  const server = startServer({ PORT: 'eighty', LOG_LEVEL: 'chatty' })
  stopOnTeardown(t, server)
  const { code } = await server.exited
  t.equal(code, 1)
  t.match(server.output(), /PORT: expected a TCP port number from 0 to 65535, got "eighty"/)
  t.match(server.output(), /LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "chatty"/)
  t.notMatch(server.output(), /^\s+at /m)
})

t.test('an unreachable DATABASE_URL stops start-up with a message that says what to check', async (t) => {
  const port = await freePort()
  const server = startServer({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/mailrun`, MAILRUN_SECRET_KEY: randomBytes(32).toString('base64'), PORT: '0' })
  stopOnTeardown(t, server)
  const { code } = await server.exited
  t.equal(code, 1)
  t.match(server.output(), /mailrun: cannot open the database: .*ECONNREFUSED.*Check DATABASE_URL and that the server is running\./)
  t.notMatch(server.output(), /^\s+at /m)
})

t.test('a second mailrun on the same embedded data directory refuses to start; a lock left by a killed one is taken over', async (t) => {
  const dataDir = await tempDir(t)
  const first = startServer({ HOST: '127.0.0.1', PORT: '0', MAILRUN_DATA_DIR: dataDir, MAILRUN_ADMIN_KEY: 'mra_an-admin-key-chosen-by-the-operator' })
  stopOnTeardown(t, first)
  await first.waitFor(/mailrun listening on/, 90000)

  const second = startServer({ HOST: '127.0.0.1', PORT: '0', MAILRUN_DATA_DIR: dataDir, MAILRUN_ADMIN_KEY: 'mra_an-admin-key-chosen-by-the-operator' })
  stopOnTeardown(t, second)
  const { code } = await second.exited
  t.equal(code, 1, 'the second process exits')
  t.match(second.output(), new RegExp(`refusing to start: the data directory ${dataDir} is in use by another mailrun, process ${first.child.pid ?? 0}`), 'naming the directory and the process that holds it')
  t.notMatch(second.output(), /^\s+at /m, 'no stack trace')
  t.notMatch(second.output(), /mailrun listening/, 'it never served')

  first.child.kill('SIGKILL')
  await first.exited
  t.ok((await stat(path.join(dataDir, 'mailrun.lock'))).isFile(), 'a killed process leaves its lock behind')
  await servesAndStops(t, { MAILRUN_DATA_DIR: dataDir, MAILRUN_ADMIN_KEY: 'mra_an-admin-key-chosen-by-the-operator' }, /database: PGlite in /)
  await t.rejects(stat(path.join(dataDir, 'mailrun.lock')), { code: 'ENOENT' }, 'a clean stop removes the lock')
})
