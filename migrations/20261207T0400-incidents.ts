import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// A condition the team is told of once, not at every failed attempt: a mailbox that cannot be
// read, Orchestrator refusing mailrun's sign-in or folder, replies the SMTP server refuses,
// messages left undecided. At most one open incident per tenant, kind and subject (the unique
// index: two replicas noticing at once open it once); closing it lets the next one be told.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`create table incidents (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    kind text not null,
    subject text not null,
    data jsonb not null default '{}',
    opened_at timestamptz not null default now(),
    closed_at timestamptz
  )`).execute(db)
  await sql.raw('create unique index incidents_open on incidents (tenant_id, kind, subject) where closed_at is null').execute(db)
  await sql.raw('create index incidents_tenant on incidents (tenant_id, opened_at desc)').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists incidents').execute(db)
}
