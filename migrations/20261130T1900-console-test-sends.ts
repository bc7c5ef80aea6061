import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // A test send from the console (or the admin API) is a message of its own door, so the history
  // says which launches were tests and who made them.
  'alter table messages drop constraint messages_door_check',
  "alter table messages add constraint messages_door_check check (door in ('mime', 'mailgun', 'sendgrid', 'imap', 'console'))"
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw("delete from messages where door = 'console'").execute(db)
  await sql.raw('alter table messages drop constraint messages_door_check').execute(db)
  await sql.raw("alter table messages add constraint messages_door_check check (door in ('mime', 'mailgun', 'sendgrid', 'imap'))").execute(db)
}
