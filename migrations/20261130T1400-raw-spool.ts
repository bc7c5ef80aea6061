import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // On the embedded database a large message's raw bytes wait for their decision in a spool file
  // of the data directory rather than in the row: PGlite copies a bytea through WebAssembly as hex
  // text, seconds of blocked event loop for a 30 MB message. The row names the file.
  'alter table messages add column raw_spool text'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table messages drop column raw_spool').execute(db)
}
