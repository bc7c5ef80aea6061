import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { Metrics } from '../metrics.js'
import { dropChunks } from './raw-chunks.js'
import type { RawSpool } from './raw-spool.js'

// A stored message whose decision fails (a database fault, or a message no code path expected) is
// tried again with a backoff of its own — 15 s, 30 s, 1 min, 2 min — and failed after the fifth
// attempt with the error, so it can never hold up other messages, and never sits undecided unseen.

export const MAX_DECIDE_ATTEMPTS = 5
const FIRST_RETRY_MS = 15_000
/** A message younger than this may still be being decided by the door that stored it. */
export const DOOR_GRACE_MS = 30_000
/** Undecided for longer than this: something is wrong, and /readyz and /metrics say so. */
export const STUCK_AFTER_MS = 5 * 60_000

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 500)

/** Records a failed attempt at deciding; answers 'failed' when that was the last one. */
export async function noteDecideFailure (db: Kysely<Database>, metrics: Metrics, messageId: string, error: unknown, spool?: RawSpool): Promise<'retrying' | 'failed'> {
  const row = await db.updateTable('messages')
    .set((eb) => ({ decide_attempts: eb('decide_attempts', '+', 1) }))
    .where('id', '=', messageId).where('status', '=', 'received')
    .returning(['decide_attempts', 'door', 'raw_spool', 'raw_chunks']).executeTakeFirst()
  if (row === undefined) return 'failed'
  if (row.decide_attempts >= MAX_DECIDE_ATTEMPTS) {
    // Its raw bytes stay in the row (never a spool file) for the replay window, like a refused message's.
    await db.updateTable('messages').set({
      status: 'failed', reason: `could not be processed after ${row.decide_attempts} attempts: ${describe(error)}`, raw_spool: null, raw_chunks: null, next_decide_at: null, processed_at: new Date()
    }).where('id', '=', messageId).where('status', '=', 'received').execute()
    if (row.raw_spool !== null) await spool?.remove(row.raw_spool).catch(() => {})
    if (row.raw_chunks !== null) await dropChunks(db, messageId).catch(() => {})
    metrics.messages.inc({ door: row.door, status: 'failed' })
    return 'failed'
  }
  const delay = FIRST_RETRY_MS * 2 ** (row.decide_attempts - 1)
  await db.updateTable('messages').set({
    reason: `not processed yet (attempt ${row.decide_attempts} failed: ${describe(error)})`,
    next_decide_at: sql<Date>`now() + ${`${delay} milliseconds`}::interval`
  }).where('id', '=', messageId).where('status', '=', 'received').execute()
  return 'retrying'
}

/** The undecided messages whose turn has come, oldest turn first. */
export async function dueUndecided (db: Kysely<Database>, limit: number, strandedHere: string[] = []): Promise<string[]> {
  const turn = sql<Date>`coalesce(next_decide_at, received_at + ${`${DOOR_GRACE_MS} milliseconds`}::interval)`
  // Messages this process stored and could not decide are due at once: no other door is deciding them.
  const stranded = strandedHere.slice(0, limit)
  const rows = await db.selectFrom('messages').select('id').where('status', '=', 'received')
    .where((eb) => stranded.length === 0 ? eb(turn, '<=', sql<Date>`now()`) : eb.or([eb(turn, '<=', sql<Date>`now()`), eb('id', 'in', stranded)]))
    .orderBy(turn).limit(limit).execute()
  return rows.map((r) => r.id)
}

/** How many messages have waited undecided for longer than STUCK_AFTER_MS. */
export async function countStuck (db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'received')
    .where('received_at', '<', sql<Date>`now() - ${`${STUCK_AFTER_MS} milliseconds`}::interval`).executeTakeFirstOrThrow()
  return Number(row.n)
}
