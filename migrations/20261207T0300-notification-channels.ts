import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Where a tenant's team is told what happened (a job faulted, a launch gave up): a channel per
// destination, and an outbox of deliveries sent by a worker with retries, like the reply outbox.
// A delivery's id is its `webhook-id`: the same on every retry, so a receiver can drop repeats.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`create table notification_channels (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null,
    kind text not null check (kind in ('webhook', 'slack', 'teams', 'google_chat', 'chatwork', 'email')),
    events jsonb not null default '[]',
    url_enc text,
    url_hint text,
    secret_enc text,
    room_id text,
    recipients jsonb not null default '[]',
    failing_since timestamptz,
    last_error text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, name)
  )`).execute(db)
  await sql.raw(`create table channel_deliveries (
    id uuid primary key default gen_random_uuid(),
    channel_id uuid not null references notification_channels (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    event_type text not null,
    data jsonb not null,
    state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    give_up_at timestamptz not null default now() + interval '25 hours',
    last_status integer,
    last_answer text,
    created_at timestamptz not null default now(),
    sent_at timestamptz
  )`).execute(db)
  await sql.raw("create index channel_deliveries_due on channel_deliveries (next_attempt_at) where state = 'pending'").execute(db)
  await sql.raw('create index channel_deliveries_channel on channel_deliveries (channel_id, created_at desc, id desc)').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists channel_deliveries').execute(db)
  await sql.raw('drop table if exists notification_channels').execute(db)
}
