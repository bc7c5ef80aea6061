import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // What a queue robot does with a spreadsheet that has invalid rows: refuse it all, or add the rest.
  "alter table robots add column invalid_rows text not null default 'reject' check (invalid_rows in ('reject', 'skip'))",
  // The rows of a spreadsheet a launch adds as queue items, kept apart from the launch so that
  // reading launches (lists, claims) never carries thousands of rows along. Deleted with it.
  `create table launch_rows (
    launch_id uuid primary key references launches (id) on delete cascade,
    tenant_id uuid not null,
    items jsonb not null,
    item_count integer not null,
    skipped jsonb not null default '{"rows":0,"problems":[]}',
    added_count integer
  )`
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists launch_rows').execute(db)
  await sql.raw('alter table robots drop column if exists invalid_rows').execute(db)
}
