import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { FailureStore } from './failure-limiter.js'

// Failed credentials counted in the database, so every process on it sees the others' (one
// statement per failure: they are rare, and an address past its allowance is refused before its
// credential is checked, so an attack writes at most the allowance per process and window).
// Failures go into 10-second buckets and the total is the sum of the buckets of the last window,
// so it slides instead of starting again at a clock minute; buckets older than two windows go in
// the same statement.

const BUCKET_MS = 10_000

export function sharedFailures (db: Kysely<Database>): FailureStore {
  return {
    async record (key, at, windowMs) {
      const bucket = new Date(Math.floor(at.getTime() / BUCKET_MS) * BUCKET_MS)
      const since = new Date(at.getTime() - windowMs)
      const expired = new Date(at.getTime() - 2 * windowMs)
      const { rows } = await sql<{ total: number }>`
        with expired as (delete from auth_failures where window_start < ${expired}),
        counted as (
          insert into auth_failures (key, window_start, failures) values (${key}, ${bucket}, 1)
          on conflict (key, window_start) do update set failures = auth_failures.failures + 1
          returning failures
        )
        select ((select failures from counted) + coalesce((select sum(failures) from auth_failures where key = ${key} and window_start > ${since} and window_start <> ${bucket}), 0))::integer as total`.execute(db)
      return Number(rows[0]?.total ?? 0)
    }
  }
}
