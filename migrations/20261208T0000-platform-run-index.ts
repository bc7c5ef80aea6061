import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// The claim of due runs on other platforms (Power Automate, Automation Anywhere, HTTP targets)
// on an index of its own: the pass runs every quarter second while a launch is young, and read
// every running launch to find them, UiPath jobs included (with 3,000 running on the embedded
// database: 0.9 ms a pass, and growing with them; 0.03 ms on this index).
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw("create index launches_platform_runs_idx on launches (next_attempt_at) where state = 'launched' and connection_id is not null").execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop index launches_platform_runs_idx').execute(db)
}
