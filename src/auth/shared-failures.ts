import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { FailureStore } from './failure-limiter.js'

// Failed credentials counted in the database, so every process on it sees the others' (one
// statement per failure: they are rare, and an address past its allowance is refused before its
// credential is checked, so an attack writes at most the allowance per process and minute).
// Windows older than two minutes go in the same statement.

export function sharedFailures (db: Kysely<Database>): FailureStore {
  return {
    async record (key, windowStart) {
      const row = await db
        .with('expired', (qb) => qb.deleteFrom('auth_failures').where('window_start', '<', new Date(windowStart.getTime() - 120_000)))
        .insertInto('auth_failures').values({ key, window_start: windowStart, failures: 1 })
        .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ failures: sql<number>`auth_failures.failures + 1` }))
        .returning('failures').executeTakeFirstOrThrow()
      return row.failures
    }
  }
}
