import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// A third kind of launch target: an Automation Anywhere Control Room (its URL sealed in url_enc,
// the API key in secret_enc, the user it signs in as in settings). A robot on it keeps the bot it
// deploys in `target` ({fileId, runAsUserIds, poolIds}), as a Power Automate robot keeps its flow.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table connections drop constraint connections_kind_check').execute(db)
  await sql.raw("alter table connections add constraint connections_kind_check check (kind in ('http', 'power_automate', 'automation_anywhere'))").execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw("update robots set connection_id = null, target = null where connection_id in (select id from connections where kind = 'automation_anywhere')").execute(db)
  await sql.raw("delete from connections where kind = 'automation_anywhere'").execute(db)
  await sql.raw('alter table connections drop constraint connections_kind_check').execute(db)
  await sql.raw("alter table connections add constraint connections_kind_check check (kind in ('http', 'power_automate'))").execute(db)
}
