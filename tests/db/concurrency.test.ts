import { sql } from 'kysely'
import t from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { insertTenant } from '../support/fixtures.js'

class Rollback extends Error {}

t.test(`on ${testDatabaseKind}, 20 concurrent read-modify-write transactions leave exactly the committed count`, async (t) => {
  const { db } = await createTestDatabase(t)
  const tenantId = await insertTenant(db)
  const attempts = Array.from({ length: 20 }, (_v, i) => i)
  const rollsBack = (i: number): boolean => i % 4 === 3

  const outcomes = await Promise.allSettled(attempts.map(async (i) => {
    await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('tenants').select('max_mailboxes').where('id', '=', tenantId).forUpdate().executeTakeFirstOrThrow()
      // Yield between the read and the write so that, on a shared connection, other
      // transactions would get the chance to interleave.
      await sql`select pg_sleep(0.001)`.execute(trx)
      await new Promise((resolve) => setImmediate(resolve))
      await trx.updateTable('tenants').set({ max_mailboxes: row.max_mailboxes + 1 }).where('id', '=', tenantId).execute()
      if (rollsBack(i)) throw new Rollback(`attempt ${i} rolls back`)
    })
  }))

  const committed = attempts.filter((i) => !rollsBack(i)).length
  t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, committed, 'the others committed')
  t.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof Rollback), 'only the planned rollbacks failed')
  const after = await db.selectFrom('tenants').select('max_mailboxes').where('id', '=', tenantId).executeTakeFirstOrThrow()
  t.equal(after.max_mailboxes, 5 + committed)
})
