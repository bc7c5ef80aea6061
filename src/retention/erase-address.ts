import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { DECIDED_MESSAGE_STATUSES, FINISHED_LAUNCH_STATES, removeContent, type Removed } from './remove-content.js'

// Erasure: every trace of one address in a tenant's messages, launches and replies — what they
// wrote, what was answered, and the address itself — removed batch by batch. The rows stay (their
// states and times hold the tenant's counts and exactly-once), with nothing left to tell whose they
// were.

const BATCH = 500

/** The tenant's messages from, by or answered to the address (or the sender), not erased yet. */
function traces (db: Kysely<Database>, tenantId: string, address: string, senderId: string) {
  return db.selectFrom('messages').select(['messages.id', 'messages.status'])
    .where('messages.tenant_id', '=', tenantId)
    .where((eb) => eb.or([eb('messages.content_removed_by', 'is', null), eb('messages.content_removed_by', '!=', 'erasure')]))
    .where((eb) => eb.or([
      eb('messages.sender_id', '=', senderId),
      eb(sql<string>`lower(messages.from_address)`, '=', address),
      eb.exists(eb.selectFrom('notifications').select('notifications.id').whereRef('notifications.message_id', '=', 'messages.id').where(sql<string>`lower(notifications.recipient)`, '=', address))
    ]))
}

/** How many of those are still being handled: undecided, or with a launch not finished. */
export async function tracesInProgress (db: Kysely<Database>, tenantId: string, address: string, senderId: string): Promise<number> {
  const row = await traces(db, tenantId, address.toLowerCase(), senderId)
    .where((eb) => eb.or([
      eb('messages.status', 'not in', [...DECIDED_MESSAGE_STATUSES]),
      eb.exists(eb.selectFrom('launches').select('launches.id').whereRef('launches.message_id', '=', 'messages.id').where('launches.state', 'not in', [...FINISHED_LAUNCH_STATES]))
    ]))
    .clearSelect().select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Erases the address's traces, a transaction per batch; answers what it removed. */
export async function eraseAddress (db: Kysely<Database>, tenantId: string, address: string, senderId: string): Promise<Removed> {
  const total: Removed = { messages: 0, launches: 0, replies: 0 }
  const lower = address.toLowerCase()
  for (;;) {
    // Only finished work, even if some arrived after the caller checked: it is erased by a later call.
    const ids = (await traces(db, tenantId, lower, senderId)
      .where('messages.status', 'in', [...DECIDED_MESSAGE_STATUSES])
      .where((eb) => eb.not(eb.exists(eb.selectFrom('launches').select('launches.id').whereRef('launches.message_id', '=', 'messages.id').where('launches.state', 'not in', [...FINISHED_LAUNCH_STATES]))))
      .limit(BATCH).execute()).map((row) => row.id)
    if (ids.length === 0) break
    const removed = await db.transaction().execute(async (trx) => await removeContent(trx, ids, 'erasure'))
    total.messages += removed.messages
    total.launches += removed.launches
    total.replies += removed.replies
  }
  // Replies to the address that belong to no message of the tenant's (none are made today).
  const stray = await db.updateTable('notifications').set({ subject: '', text_body: '', html_body: null, headers: '{}', recipient: '', state: sql`case when state = 'pending' then 'suppressed' else state end` })
    .where('tenant_id', '=', tenantId).where(sql<string>`lower(recipient)`, '=', lower).executeTakeFirst()
  total.replies += Number(stray.numUpdatedRows)
  // Alerts to the team that name the address (a job's sender, a digest's refused senders) go too.
  await db.deleteFrom('channel_deliveries').where('tenant_id', '=', tenantId).where(sql<boolean>`strpos(lower(data::text), ${lower}) > 0`).execute()
  return total
}
