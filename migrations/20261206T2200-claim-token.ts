import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Which claim holds a launching row: a process that knows its claim never sent the start (the
// claim's answer was lost to a database blip, or the attempt failed before StartJobs) hands the row
// back by this token instead of leaving it to be taken over as "unsure" (a 15-minute wait).
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table launches add column claim_token uuid').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table launches drop column if exists claim_token').execute(db)
}
