import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../db/schema.js'

// What a person wrote and what a robot answered, removed from messages mailrun has finished with:
// subjects, bodies, inputs, outputs, reply texts, attachment names, history details. The rows stay,
// with their states, times and ids, so the dashboard's counts, STATUS's "no such launch" and the
// exactly-once look-ups (dedupe key, Reference) are unchanged.

type Db = Kysely<Database> | Transaction<Database>

/** Launch states after which nothing more is done with a launch's inputs. */
export const FINISHED_LAUNCH_STATES = ['completed', 'faulted', 'stopped', 'failed'] as const
/** Message statuses after which the message itself is finished with ('received' is still undecided). */
export const DECIDED_MESSAGE_STATUSES = ['accepted', 'rejected', 'ignored', 'failed'] as const

export interface Removed { messages: number, launches: number, replies: number }

/**
 * Removes the content of these messages, of their launches and of the replies about them.
 * An erasure also removes who they were from and to (addresses, reasons, errors that may quote them).
 */
export async function removeContent (db: Db, messageIds: string[], why: 'retention' | 'erasure'): Promise<Removed> {
  if (messageIds.length === 0) return { messages: 0, launches: 0, replies: 0 }
  const erasing = why === 'erasure'
  const messages = await db.updateTable('messages').set({
    subject: null,
    body: null,
    raw: null,
    problems: '[]',
    auth_verdict: null,
    reply_to: null,
    ...(erasing ? { from_address: null, message_id_header: null, reason: null, imap_folder: null } : {}),
    content_removed_at: new Date(),
    content_removed_by: why
  }).where('id', 'in', messageIds).executeTakeFirst()
  const launchIds = (await db.selectFrom('launches').select('id').where('message_id', 'in', messageIds).execute()).map((row) => row.id)
  if (launchIds.length > 0) {
    await db.updateTable('launches').set({
      plan: JSON.stringify({ removed: why }),
      input_arguments: null,
      output_arguments: null,
      job_info: null,
      ...(erasing ? { last_error: null, sender_id: null } : {})
    }).where('id', 'in', launchIds).execute()
    await db.updateTable('launch_events').set({ detail: null }).where('launch_id', 'in', launchIds).execute()
    await db.updateTable('launch_rows').set({ items: '[]', skipped: sql<string>`jsonb_build_object('rows', coalesce((skipped->>'rows')::int, 0), 'problems', '[]'::jsonb)` })
      .where('launch_id', 'in', launchIds).execute()
    await db.deleteFrom('launch_files').where('launch_id', 'in', launchIds).execute()
  }
  const replyIds = (await db.selectFrom('notifications').select('id')
    .where((eb) => launchIds.length > 0 ? eb.or([eb('message_id', 'in', messageIds), eb('launch_id', 'in', launchIds)]) : eb('message_id', 'in', messageIds))
    .execute()).map((row) => row.id)
  if (replyIds.length > 0) {
    // A reply still waiting to be sent is never sent once its content is gone.
    await db.updateTable('notifications').set({ state: 'suppressed', last_error: `not sent: content removed (${why})` }).where('id', 'in', replyIds).where('state', '=', 'pending').execute()
    await db.updateTable('notifications').set({ subject: '', text_body: '', html_body: null, headers: '{}', ...(erasing ? { recipient: '' } : {}) })
      .where('id', 'in', replyIds).execute()
  }
  return { messages: Number(messages.numUpdatedRows), launches: launchIds.length, replies: replyIds.length }
}
