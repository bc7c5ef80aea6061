import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { DECIDED_MESSAGE_STATUSES, FINISHED_LAUNCH_STATES, removeContent, type Removed } from './remove-content.js'

// The retention sweep: the raw copy of a refused message past the replay window goes, and content
// older than its tenant's retention period (tenants.retention_days, else MAILRUN_RETENTION_DAYS)
// is removed in batches, each its own short transaction, so a sweep
// over a year of mail never holds the database (PGlite is one connection) for long. Only finished
// work is touched: an undecided message, a launch still running or a reply still to be sent waits
// for the next sweep.

export interface RetentionOptions {
  defaultDays: number
  /** Hours a refused or failed message's raw copy is kept for a replay (MAILRUN_REPLAY_HOURS). */
  replayHours?: number
  /** Messages per transaction. */
  batch?: number
  /** Stop after this many batches (the next sweep goes on). */
  maxBatches?: number
}

/** Ids of messages whose content is due for removal, oldest first. */
async function dueMessages (db: Kysely<Database>, defaultDays: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('messages').innerJoin('tenants', 'tenants.id', 'messages.tenant_id')
    .select('messages.id')
    .where('messages.content_removed_at', 'is', null)
    .where('messages.status', 'in', [...DECIDED_MESSAGE_STATUSES])
    .where(sql<boolean>`messages.received_at < now() - make_interval(days => coalesce(tenants.retention_days, ${defaultDays}::int))`)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('launches').select('launches.id')
      .whereRef('launches.message_id', '=', 'messages.id').where('launches.state', 'not in', [...FINISHED_LAUNCH_STATES]))))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('notifications').select('notifications.id')
      .whereRef('notifications.message_id', '=', 'messages.id').where('notifications.state', '=', 'pending'))))
    .orderBy('messages.received_at').limit(limit).execute()
  return rows.map((row) => row.id)
}

/** Raw copies of refused and failed messages past the replay window, a batch at a time; answers how many. */
async function dropReplayCopies (db: Kysely<Database>, hours: number, batch: number, maxBatches: number): Promise<number> {
  let dropped = 0
  for (let n = 0; n < maxBatches; n++) {
    const due = db.selectFrom('messages').select('id').where('raw', 'is not', null).where('status', 'in', ['rejected', 'failed'])
      .where(sql<boolean>`processed_at < now() - make_interval(hours => ${hours}::int)`).limit(batch)
    const result = await db.updateTable('messages').set({ raw: null }).where('id', 'in', due).executeTakeFirst()
    dropped += Number(result.numUpdatedRows)
    if (Number(result.numUpdatedRows) < batch) break
  }
  return dropped
}

/** Alert deliveries (they name robots and senders) past their tenant's retention period, once sent or given up. */
async function dropOldDeliveries (db: Kysely<Database>, defaultDays: number, batch: number, maxBatches: number): Promise<void> {
  for (let n = 0; n < maxBatches; n++) {
    const due = db.selectFrom('channel_deliveries as d').innerJoin('tenants as t', 't.id', 'd.tenant_id').select('d.id').where('d.state', '!=', 'pending')
      .where(sql<boolean>`d.created_at < now() - make_interval(days => coalesce(t.retention_days, ${defaultDays}::int))`).limit(batch)
    const result = await db.deleteFrom('channel_deliveries').where('id', 'in', due).executeTakeFirst()
    if (Number(result.numDeletedRows) < batch) break
  }
}

/** One sweep: removes what is due, batch by batch; answers what it removed. */
export async function sweepRetention (db: Kysely<Database>, options: RetentionOptions): Promise<Removed & { replayCopies: number }> {
  const batch = options.batch ?? 500
  const total: Removed & { replayCopies: number } = { messages: 0, launches: 0, replies: 0, replayCopies: 0 }
  if (options.replayHours !== undefined) total.replayCopies = await dropReplayCopies(db, options.replayHours, batch, options.maxBatches ?? 200)
  await dropOldDeliveries(db, options.defaultDays, batch, options.maxBatches ?? 200)
  for (let n = 0; n < (options.maxBatches ?? 200); n++) {
    const ids = await dueMessages(db, options.defaultDays, batch)
    if (ids.length === 0) break
    const removed = await db.transaction().execute(async (trx) => await removeContent(trx, ids, 'retention'))
    total.messages += removed.messages
    total.launches += removed.launches
    total.replies += removed.replies
    if (ids.length < batch) break
  }
  return total
}
