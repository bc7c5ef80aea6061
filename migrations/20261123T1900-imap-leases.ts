import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// One replica sweeps a mailbox at a time. A lease row with an expiry rather than an advisory lock:
// an advisory lock lives in one database session, which would pin a pooled connection per mailbox
// (and PGlite has one session); a row works the same on both, shows who holds the mailbox, and
// frees itself when the holder dies.
const statements = [
  `create table imap_leases (
    mailbox_id uuid primary key references mailboxes (id) on delete cascade,
    holder text not null,
    expires_at timestamptz not null
  )`
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists imap_leases').execute(db)
}
