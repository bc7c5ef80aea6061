import { sql, type Kysely } from 'kysely'
import t, { type Test } from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { PREPARED } from '../../src/db/prepared-statements.js'
import { createPostgresDatabase, createTestDatabase, testDatabaseKind, testDatabaseUrl } from '../support/database.js'

// Statements marked PREPARED run as named statements on PostgreSQL: planned once per connection.
// Looked at from the server's side (pg_prepared_statements is the connection's own list), on one
// connection held for the test's statements.

async function openPostgres (t: Test, url: string, prepared?: boolean): Promise<Kysely<any>> {
  const created = await createPostgresDatabase(url)
  const handle = await openDatabase({ kind: 'postgres', url: created.url, ...(prepared !== undefined ? { prepared } : {}) })
  t.teardown(async () => { await handle.close(); await created.drop() })
  return handle.db as unknown as Kysely<any>
}

const kept = async (db: Kysely<any>): Promise<string[]> =>
  (await sql<{ statement: string }>`select statement from pg_prepared_statements order by prepare_time`.execute(db)).rows.map((row) => row.statement)

if (testDatabaseKind === 'postgres' && testDatabaseUrl !== undefined) {
  const url = testDatabaseUrl

  t.test('a marked statement is named once per connection and reused; others are not named', async (t) => {
    const db = await openPostgres(t, url)
    await db.connection().execute(async (conn) => {
      for (const n of [1, 2, 3]) {
        const row = await conn.selectNoFrom(sql<number>`${n}::int + 1`.as('next')).modifyEnd(PREPARED).executeTakeFirstOrThrow()
        t.equal(row.next, n + 1, 'each run answers for its own parameters')
      }
      await conn.selectNoFrom(sql<number>`2`.as('plain')).execute()
      const statements = await kept(conn)
      t.equal(statements.length, 1, `one named statement: ${JSON.stringify(statements)}`)
      t.match(statements[0], /\+ 1.*mailrun:prepared/s)
    })
  })

  t.test('after a migration changes what it answers, the statement fails once and is named anew', async (t) => {
    const db = await openPostgres(t, url)
    await db.connection().execute(async (conn) => {
      await sql`create table reports (id int)`.execute(conn)
      await sql`insert into reports values (1)`.execute(conn)
      const read = async () => await conn.selectFrom('reports').selectAll().modifyEnd(PREPARED).execute()
      t.same(await read(), [{ id: 1 }])
      await sql`alter table reports add column period text`.execute(conn)
      await t.rejects(read(), { code: '0A000' }, 'the kept plan no longer answers the same columns')
      t.same(await read(), [{ id: 1, period: null }], 'named anew, it answers the new columns')
      t.same(await read(), [{ id: 1, period: null }])
    })
  })

  t.test('MAILRUN_DATABASE_PREPARED=false: nothing is named', async (t) => {
    const db = await openPostgres(t, url, false)
    await db.connection().execute(async (conn) => {
      const row = await conn.selectNoFrom(sql<number>`${41}::int + 1`.as('next')).modifyEnd(PREPARED).executeTakeFirstOrThrow()
      t.equal(row.next, 42)
      t.same(await kept(conn), [])
    })
  })
} else {
  t.test('on the embedded database a marked statement runs as any other', async (t) => {
    const { db } = await createTestDatabase(t, { migrate: false })
    const row = await db.selectNoFrom(sql<number>`${41}::int + 1`.as('next')).modifyEnd(PREPARED).executeTakeFirstOrThrow()
    t.equal(row.next, 42)
  })
}
