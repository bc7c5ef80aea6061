import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Failed credentials per client address (or hashed console account) and minute, shared by every
// process on the database: n replicas no longer allow n times the guesses.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`create table auth_failures (
    key text not null,
    window_start timestamptz not null,
    failures integer not null,
    primary key (key, window_start)
  )`).execute(db)
  await sql.raw('create index auth_failures_window on auth_failures (window_start)').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists auth_failures').execute(db)
}
