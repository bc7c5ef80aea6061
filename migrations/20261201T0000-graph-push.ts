import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Mail pushed by Microsoft Graph change notifications (and its delta fallback).
  'alter table messages drop constraint messages_door_check',
  "alter table messages add constraint messages_door_check check (door in ('mime', 'mailgun', 'sendgrid', 'imap', 'console', 'smtp', 'graph'))",
  // The mailbox's Graph settings (user, base URL, sign-in) and its sealed secret; what went wrong last.
  'alter table mailboxes add column graph jsonb',
  'alter table mailboxes add column graph_secret_enc text',
  'alter table mailboxes add column graph_configured_at timestamptz',
  'alter table mailboxes add column graph_last_error text',
  'alter table mailboxes add column graph_last_error_at timestamptz',
  'alter table mailboxes add column graph_last_synced_at timestamptz',
  // One subscription per watched folder; clientState sealed; the delta link the next sweep follows.
  `create table graph_subscriptions (
    mailbox_id uuid not null references mailboxes (id) on delete cascade,
    folder text not null,
    subscription_id text,
    client_state_enc text,
    expires_at timestamptz,
    delta_link text,
    updated_at timestamptz not null default now(),
    primary key (mailbox_id, folder)
  )`,
  'create index graph_subscriptions_by_id on graph_subscriptions (subscription_id)',
  // Which replica watches which Graph mailbox, as imap_leases does for IMAP.
  `create table graph_leases (
    mailbox_id uuid primary key references mailboxes (id) on delete cascade,
    holder text not null,
    expires_at timestamptz not null
  )`
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists graph_leases').execute(db)
  await sql.raw('drop table if exists graph_subscriptions').execute(db)
  for (const column of ['graph', 'graph_secret_enc', 'graph_configured_at', 'graph_last_error', 'graph_last_error_at', 'graph_last_synced_at']) {
    await sql.raw(`alter table mailboxes drop column if exists ${column}`).execute(db)
  }
  await sql.raw("delete from messages where door = 'graph'").execute(db)
  await sql.raw('alter table messages drop constraint messages_door_check').execute(db)
  await sql.raw("alter table messages add constraint messages_door_check check (door in ('mime', 'mailgun', 'sendgrid', 'imap', 'console', 'smtp'))").execute(db)
}
