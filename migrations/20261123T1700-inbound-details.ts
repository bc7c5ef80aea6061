import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Each problem found in a rejected message: line number, offending text, what is wrong.
  "alter table messages add column problems jsonb not null default '[]'",
  // A Mailgun token authenticates one message. Remembering which one lets a provider retry of
  // that same message be answered "duplicate", while the token on another body is a replay.
  'alter table mailgun_tokens add column message_id uuid references messages (id) on delete cascade'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table mailgun_tokens drop column message_id').execute(db)
  await sql.raw('alter table messages drop column problems').execute(db)
}
