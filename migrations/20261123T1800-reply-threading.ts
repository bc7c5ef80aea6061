import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Where and how to answer a message (recipient, subject, Message-ID, References), kept only for
  // messages mailrun may answer: authenticated, known senders.
  'alter table messages add column reply_to jsonb',
  "alter table notifications add column give_up_at timestamptz not null default now() + interval '1 day'",
  'create index notifications_launch_idx on notifications (launch_id)',
  'create index notifications_message_idx on notifications (message_id)'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists notifications_message_idx').execute(db)
  await sql.raw('drop index if exists notifications_launch_idx').execute(db)
  await sql.raw('alter table notifications drop column give_up_at').execute(db)
  await sql.raw('alter table messages drop column reply_to').execute(db)
}
