import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // The instance admin signs in to the console's instance pages with the instance-admin key: their
  // session has no user (and no tenant).
  'alter table console_sessions alter column user_id drop not null',
  'alter table console_sessions add column instance_admin boolean not null default false',
  'alter table console_sessions add constraint console_sessions_owner_check check ((user_id is null) = instance_admin)'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('delete from console_sessions where instance_admin').execute(db)
  await sql.raw('alter table console_sessions drop constraint console_sessions_owner_check').execute(db)
  await sql.raw('alter table console_sessions drop column instance_admin').execute(db)
  await sql.raw('alter table console_sessions alter column user_id set not null').execute(db)
}
