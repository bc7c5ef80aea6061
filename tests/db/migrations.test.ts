import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest, pendingMigrations } from '../../src/db/migrate.js'
import { migrations } from '../../migrations/index.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'

const tables = [
  'tenants', 'api_keys', 'orchestrator_connections', 'mailboxes', 'senders', 'robots', 'robot_senders',
  'messages', 'launches', 'launch_events', 'notifications', 'imap_cursors', 'mailgun_tokens'
]

t.test(`migrations apply from empty on ${testDatabaseKind} and create the whole data model`, async (t) => {
  const { db } = await createTestDatabase(t, { migrate: false })
  t.same(await pendingMigrations(db), Object.keys(migrations))
  const applied = await migrateToLatest(db)
  t.same(applied, Object.keys(migrations))
  t.same(await pendingMigrations(db), [])
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public'`.execute(db)
  const present = rows.map((r) => r.table_name)
  for (const table of tables) t.ok(present.includes(table), `table ${table} exists`)
})

t.test('a second migration run applies nothing and keeps the data', async (t) => {
  const { db } = await createTestDatabase(t)
  await db.insertInto('tenants').values({ name: 'Acme', max_mailboxes: 1 }).execute()
  t.same(await migrateToLatest(db), [])
  const tenants = await db.selectFrom('tenants').select('name').execute()
  t.same(tenants, [{ name: 'Acme' }])
})

t.test('every migration can be rolled back to empty', async (t) => {
  const { db } = await createTestDatabase(t)
  for (const migration of Object.values(migrations).reverse()) await migration.down?.(db)
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from information_schema.tables
    where table_schema = 'public' and table_name = any(${tables})`.execute(db)
  t.equal(rows[0]?.n, 0)
})

t.test('an embedded data directory reopened keeps its data and needs no migration', { skip: testDatabaseKind !== 'pglite' && 'PGlite-only: on-disk reopen' }, async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mailrun-reopen-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  const first = await openDatabase({ kind: 'pglite', dataDir })
  t.same(await migrateToLatest(first.db), Object.keys(migrations))
  await first.db.insertInto('tenants').values({ name: 'Kept', max_mailboxes: 2 }).execute()
  await first.close()

  const second = await openDatabase({ kind: 'pglite', dataDir })
  t.teardown(async () => { await second.close() })
  t.same(await migrateToLatest(second.db), [])
  t.same(await second.db.selectFrom('tenants').select(['name', 'max_mailboxes']).execute(), [{ name: 'Kept', max_mailboxes: 2 }])
})
