import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Who changed what, and when: one row per change made through the admin API or the console. Only
// the names of the fields sent are kept, never their values, so no secret can be recorded. No
// foreign key to tenants: "tenant deleted" outlives the tenant, for the instance admin.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`create table audit_events (
    id uuid primary key default gen_random_uuid(),
    at timestamptz not null default now(),
    tenant_id uuid,
    actor_kind text not null check (actor_kind in ('api_key', 'console_user', 'instance_admin')),
    actor_id uuid,
    actor text not null,
    via text not null check (via in ('api', 'console')),
    action text not null,
    resource text not null,
    resource_id text,
    fields jsonb not null default '[]'
  )`).execute(db)
  await sql.raw('create index audit_events_tenant_at on audit_events (tenant_id, at desc, id desc)').execute(db)
  await sql.raw('create index audit_events_at on audit_events (at desc, id desc)').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists audit_events').execute(db)
}
