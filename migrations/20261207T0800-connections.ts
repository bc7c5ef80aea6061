import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Launch targets besides the tenant's UiPath Orchestrator (orchestrator_connections): a signed
// HTTP target (n8n, Airflow, an in-house runner) and a Power Automate environment (Dataverse). The
// URL and the secret (signing secret, client secret) are sealed; `settings` holds what is not
// secret (the Entra tenant and client ids). A robot names its connection (none: the UiPath
// connection) and what that kind needs to start it (`target`: a desktop flow and the connection it
// runs on); a launch keeps the connection it was started through, so a callback is checked against
// the secret it was sent with, and an HTTP run's status URL (it may carry a token), sealed.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`create table connections (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null,
    kind text not null check (kind in ('http', 'power_automate')),
    url_enc text not null,
    url_hint text not null,
    secret_enc text not null,
    settings jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, name)
  )`).execute(db)
  await sql.raw('alter table robots add column connection_id uuid references connections (id)').execute(db)
  await sql.raw('alter table robots add column target jsonb').execute(db)
  await sql.raw('create index robots_connection on robots (connection_id) where connection_id is not null').execute(db)
  await sql.raw('alter table launches add column connection_id uuid references connections (id) on delete set null').execute(db)
  await sql.raw('alter table launches add column status_url_enc text').execute(db)
  await sql.raw("create index launches_status_url on launches (next_attempt_at) where state = 'launched' and status_url_enc is not null").execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table launches drop column status_url_enc').execute(db)
  await sql.raw('alter table launches drop column connection_id').execute(db)
  await sql.raw('alter table robots drop column target').execute(db)
  await sql.raw('alter table robots drop column connection_id').execute(db)
  await sql.raw('drop table connections').execute(db)
}
