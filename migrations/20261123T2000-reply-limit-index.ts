import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// The hourly reply limit counts a recipient's pending and sent replies of the last hour. The
// recipient index also holds every suppressed reply, so a sender over the limit made each count
// walk thousands of rows; counted only where it matters, a count reads at most the limit.
const statements = [
  "create index notifications_recent_replies_idx on notifications (lower(recipient), created_at) where state in ('pending', 'sent')"
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists notifications_recent_replies_idx').execute(db)
}
