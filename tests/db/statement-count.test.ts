import { sql } from 'kysely'
import t from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'

// mailrun_database_statements_total is what the bench divides by messages answered: a transaction's
// begin and commit (or rollback) are round trips like any statement and are counted.

t.test(`on ${testDatabaseKind}, every statement sent is counted, transaction control included`, async (t) => {
  const database = await createTestDatabase(t)
  const { db } = database

  let before = database.statements()
  await sql`select 1`.execute(db)
  t.equal(database.statements() - before, 1, 'a statement alone')

  before = database.statements()
  await db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx)
    await sql`select 2`.execute(trx)
  })
  t.equal(database.statements() - before, 4, 'begin, two statements, commit')

  before = database.statements()
  await t.rejects(db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx)
    throw new Error('rolled back')
  }), /rolled back/)
  t.equal(database.statements() - before, 3, 'begin, a statement, rollback')
})
