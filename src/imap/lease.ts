import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

/** Takes or renews the lease on a mailbox; answers whether `holder` has it now. */
export async function holdLease (db: Kysely<Database>, mailboxId: string, holder: string, ttlMs: number): Promise<boolean> {
  const expires = sql<Date>`now() + ${`${ttlMs} milliseconds`}::interval`
  const row = await db.insertInto('imap_leases').values({ mailbox_id: mailboxId, holder, expires_at: expires })
    .onConflict((oc) => oc.column('mailbox_id').doUpdateSet({ holder, expires_at: expires })
      .where((eb) => eb.or([eb('imap_leases.holder', '=', holder), eb('imap_leases.expires_at', '<', sql<Date>`now()`)])))
    .returning('holder').executeTakeFirst()
  return row?.holder === holder
}

export async function releaseLease (db: Kysely<Database>, mailboxId: string, holder: string): Promise<void> {
  await db.deleteFrom('imap_leases').where('mailbox_id', '=', mailboxId).where('holder', '=', holder).execute()
}
