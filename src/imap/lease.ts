import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

/** IMAP sweeps and Graph watches are leased apart: one replica may hold a mailbox's IMAP, another its Graph. */
export type LeaseTable = 'imap_leases' | 'graph_leases'

export async function releaseLease (db: Kysely<Database>, mailboxId: string, holder: string, table: LeaseTable = 'imap_leases'): Promise<void> {
  await db.deleteFrom(table).where('mailbox_id', '=', mailboxId).where('holder', '=', holder).execute()
}

/**
 * Takes or renews the leases on many mailboxes in one statement; answers the ones `holder` has now.
 * With a thousand mailboxes a statement per lease every few seconds was most of an idle
 * instance's work.
 */
export async function holdLeases (db: Kysely<Database>, mailboxIds: string[], holder: string, ttlMs: number, table: LeaseTable = 'imap_leases'): Promise<Set<string>> {
  if (mailboxIds.length === 0) return new Set()
  // The ids travel as one text parameter: array parameters are not encoded alike by pg and PGlite.
  const result = await sql<{ mailbox_id: string }>`
    insert into ${sql.table(table)} (mailbox_id, holder, expires_at)
    select id, ${holder}, now() + ${`${ttlMs} milliseconds`}::interval from unnest(string_to_array(${mailboxIds.join(',')}, ',')::uuid[]) as id
    on conflict (mailbox_id) do update set holder = excluded.holder, expires_at = excluded.expires_at
    where ${sql.ref(`${table}.holder`)} = excluded.holder or ${sql.ref(`${table}.expires_at`)} < now()
    returning mailbox_id`.execute(db)
  return new Set(result.rows.map((r) => r.mailbox_id))
}
