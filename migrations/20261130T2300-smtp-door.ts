import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Mail delivered to mailrun's own SMTP (or LMTP) server by the company's MTA.
  'alter table messages drop constraint messages_door_check',
  "alter table messages add constraint messages_door_check check (door in ('mime', 'mailgun', 'sendgrid', 'imap', 'console', 'smtp'))"
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw("delete from messages where door = 'smtp'").execute(db)
  await sql.raw('alter table messages drop constraint messages_door_check').execute(db)
  await sql.raw("alter table messages add constraint messages_door_check check (door in ('mime', 'mailgun', 'sendgrid', 'imap', 'console'))").execute(db)
}
