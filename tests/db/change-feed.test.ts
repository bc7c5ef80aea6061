import t from 'tap'
import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { eventually } from '../support/launching.js'

t.test(`an announced change reaches every listener, on ${testDatabaseKind}`, async (t) => {
  const database = await createTestDatabase(t)
  // On PostgreSQL the listener sits on another handle, as another instance would.
  const other = database.url !== undefined ? await openDatabase({ kind: 'postgres', url: database.url }) : database
  if (other !== database) t.teardown(async () => { await other.close() })
  const heard: Array<string | null> = []
  const stop = await other.changes.listen('mailbox', (id) => { heard.push(id) })
  t.teardown(stop)
  await database.changes.announce('mailbox', 'a2f6c1de-0000-4000-8000-000000000001')
  await eventually(async () => heard.includes('a2f6c1de-0000-4000-8000-000000000001'), 5000)
  t.pass('heard')
  if (database.kind !== 'postgres') return

  // The listening connection is cut (a PostgreSQL restart, a proxy's idle timeout): it comes
  // back, says something may have been missed, and hears what is announced next.
  await eventually(async () => {
    const cut = await sql<{ n: number }>`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and query ilike 'LISTEN%'`.execute(database.db)
    return (cut.rows[0]?.n ?? 0) > 0
  }, 5000)
  await eventually(async () => heard.includes(null), 10_000)
  t.pass('told that an announcement may have been missed')
  await database.changes.announce('mailbox', 'a2f6c1de-0000-4000-8000-000000000002')
  await eventually(async () => heard.includes('a2f6c1de-0000-4000-8000-000000000002'), 5000)
  t.pass('heard after the connection came back')
})
