import { mkdtemp, rm } from 'node:fs/promises'
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

async function servesAndStops (t: Test, env: Record<string, string>, database: RegExp): Promise<void> {
  const server = startServer({ HOST: '127.0.0.1', PORT: '0', ...env })
  stopOnTeardown(t, server)
  const [line, url] = await server.waitFor(/mailrun listening on (http:\/\/127\.0\.0\.1:\d+), database: ([^"\n]+)/, 90000)
  t.match(line, database, 'the start-up line names the database')
  const health = await fetch(`${url}/healthz`)
  t.equal(health.status, 200)
  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 200)
  t.same(await ready.json(), { status: 'ok' })

  server.child.kill('SIGTERM')
  const { code } = await server.exited
  t.equal(code, 0, 'exits cleanly on SIGTERM')
  t.match(server.output(), /received SIGTERM, shutting down/)
  t.notMatch(server.output(), /^\s+at /m, 'no stack trace')
}

t.test('started as npm start does, on PGlite in an empty directory, it serves and exits cleanly on SIGTERM', async (t) => {
  const dataDir = await tempDir(t)
  await servesAndStops(t, { MAILRUN_DATA_DIR: dataDir }, new RegExp(`database: PGlite in ${dataDir}/pgdata`))
})

t.test('with DATABASE_URL it uses that PostgreSQL server', { skip: testDatabaseKind !== 'postgres' && 'needs TEST_DATABASE_URL' }, async (t) => {
  const database = await createTestDatabase(t, { migrate: false })
  await servesAndStops(t, { DATABASE_URL: database.url ?? '' }, /database: PostgreSQL at 127\.0\.0\.1:5432\/mailrun_test_/)
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
  const server = startServer({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/mailrun`, PORT: '0' })
  stopOnTeardown(t, server)
  const { code } = await server.exited
  t.equal(code, 1)
  t.match(server.output(), /mailrun: cannot open the database: .*ECONNREFUSED.*Check DATABASE_URL and that the server is running\./)
  t.notMatch(server.output(), /^\s+at /m)
})
