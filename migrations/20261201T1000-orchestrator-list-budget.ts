import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Orchestrator limits collection reads (GET /odata/Jobs with a filter) per tenant and minute:
  // what this tenant has used in the current minute, shared by every mailrun instance.
  `create table orchestrator_list_budget (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    window_start timestamptz not null,
    used integer not null
  )`
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists orchestrator_list_budget').execute(db)
}
