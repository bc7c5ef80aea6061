import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // The console's dashboard counts messages by status and launches by state, per hour over 7 days.
  // Counting 100,000 rows on every view took 160-250 ms; these counters, kept by triggers in the
  // same transaction as every insert, status change and delete, make it a read of a few hundred
  // rows. A counter row is split into four shards (picked at random per change) so concurrent
  // messages of one tenant do not queue on one row lock. No foreign key: a tenant's messages are
  // deleted (and counted down) while the tenant row itself goes; tenants.remove() clears the rest.
  `create table activity_hourly (
    tenant_id uuid not null,
    hour timestamptz not null,
    kind text not null check (kind in ('message', 'launch')),
    state text not null,
    shard smallint not null,
    n integer not null,
    primary key (tenant_id, hour, kind, state, shard)
  )`,
  `create function activity_count(t uuid, at timestamptz, k text, s text, delta integer) returns void language plpgsql as $$
    begin
      insert into activity_hourly (tenant_id, hour, kind, state, shard, n)
      values (t, date_trunc('hour', at), k, s, floor(random() * 4)::smallint, delta)
      on conflict (tenant_id, hour, kind, state, shard) do update set n = activity_hourly.n + excluded.n;
    end $$`,
  `create function messages_activity() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        perform activity_count(new.tenant_id, new.received_at, 'message', new.status, 1);
      elsif tg_op = 'DELETE' then
        perform activity_count(old.tenant_id, old.received_at, 'message', old.status, -1);
      elsif old.status is distinct from new.status then
        perform activity_count(old.tenant_id, old.received_at, 'message', old.status, -1);
        perform activity_count(new.tenant_id, new.received_at, 'message', new.status, 1);
      end if;
      return null;
    end $$`,
  `create function launches_activity() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        perform activity_count(new.tenant_id, new.created_at, 'launch', new.state, 1);
      elsif tg_op = 'DELETE' then
        perform activity_count(old.tenant_id, old.created_at, 'launch', old.state, -1);
      elsif old.state is distinct from new.state then
        perform activity_count(old.tenant_id, old.created_at, 'launch', old.state, -1);
        perform activity_count(new.tenant_id, new.created_at, 'launch', new.state, 1);
      end if;
      return null;
    end $$`,
  'create trigger messages_activity after insert or update of status or delete on messages for each row execute function messages_activity()',
  'create trigger launches_activity after insert or update of state or delete on launches for each row execute function launches_activity()',
  `insert into activity_hourly (tenant_id, hour, kind, state, shard, n)
    select tenant_id, date_trunc('hour', received_at), 'message', status, 0, count(*) from messages group by 1, 2, 4`,
  `insert into activity_hourly (tenant_id, hour, kind, state, shard, n)
    select tenant_id, date_trunc('hour', created_at), 'launch', state, 0, count(*) from launches group by 1, 2, 4`,
  // Detection latency percentiles read only the rows that have one (IMAP), from the index alone.
  'create index messages_detection_idx on messages (tenant_id, received_at) include (door, imap_folder, detection_latency_ms) where detection_latency_ms is not null'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const statement of [
    'drop index messages_detection_idx',
    'drop trigger launches_activity on launches',
    'drop trigger messages_activity on messages',
    'drop function launches_activity()',
    'drop function messages_activity()',
    'drop function activity_count(uuid, timestamptz, text, text, integer)',
    'drop table activity_hourly'
  ]) await sql.raw(statement).execute(db)
}
