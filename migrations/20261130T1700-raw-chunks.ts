import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // A large message's raw bytes, on a database without a spool directory (PostgreSQL, or PGlite in
  // memory), wait for their decision in 1 MiB rows rather than in one value: node-postgres copies a
  // parameter twice into its protocol buffers, so a 36 MB value blocked the event loop for over a
  // second and cost three times its size in memory. The message row says how many chunks it has.
  'alter table messages add column raw_chunks integer',
  `create table message_raw_chunks (
    message_id uuid not null references messages(id) on delete cascade,
    seq integer not null,
    bytes bytea not null,
    primary key (message_id, seq)
  )`
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table message_raw_chunks').execute(db)
  await sql.raw('alter table messages drop column raw_chunks').execute(db)
}
