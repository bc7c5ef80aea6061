import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// What a queue robot does with a spreadsheet column it does not take (a "Comment" column, a hidden
// one): leave it out and say so (the default), or refuse the file as before.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw("alter table robots add column extra_columns text not null default 'ignore' check (extra_columns in ('reject', 'ignore'))").execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table robots drop column if exists extra_columns').execute(db)
}
