import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { migrations } from '../../migrations/index.js'
import { buildTestApp } from '../support/app.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { freePort } from '../support/net.js'

t.test(`on ${testDatabaseKind}, a migrated database is ready`, async (t) => {
  const { app } = await buildTestApp(t)
  const alive = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(alive.statusCode, 200)
  t.same(alive.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok' })
})

t.test('a database whose migrations are not applied is not ready, and says which', async (t) => {
  const database = await createTestDatabase(t, { migrate: false })
  const { app } = await buildTestApp(t, { database })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), { status: 'unavailable', reason: `migrations not applied: ${Object.keys(migrations).join(', ')}; run npm run migrate` })
})

t.test('an unreachable PostgreSQL server makes /readyz answer 503 while /healthz stays 200', async (t) => {
  const port = await freePort()
  const database = await openDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/mailrun` })
  t.teardown(async () => { await database.close() })
  const { app } = await buildTestApp(t, { database })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', reason: /^database unreachable \(ECONNREFUSED\)$/ })
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})

t.test('a closed embedded database makes /readyz answer 503', async (t) => {
  const database = await openDatabase({ kind: 'pglite', memory: true })
  await migrateToLatest(database.db)
  const { app } = await buildTestApp(t, { database })
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready while open')
  await database.close()
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', reason: /^database unreachable/ })
})

t.test('/metrics answers Prometheus text with process metrics', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(res.body, /^# TYPE mailrun_process_resident_memory_bytes gauge$/m)
  t.match(res.body, /^mailrun_nodejs_eventloop_lag_seconds \d/m)
})

t.test('an unknown path answers the common error shape', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/nowhere?x=1' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { statusCode: 404, code: 'MAILRUN_ERR_NOT_FOUND', message: 'No route for GET /nowhere' })
})
