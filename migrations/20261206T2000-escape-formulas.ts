import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Spreadsheet text that a spreadsheet program would run as a formula (=, +, -, @, a leading tab
// or CR) reaches a queue robot prefixed with ' unless the robot says otherwise.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table robots add column escape_formulas boolean not null default true').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table robots drop column if exists escape_formulas').execute(db)
}
