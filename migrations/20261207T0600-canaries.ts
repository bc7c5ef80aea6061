import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// The canary: a mailbox may have mailrun send itself a test email through its own route every few
// minutes and expect to find it (push or IMAP) by a deadline. One row per canary sent; the token
// in its header is what proves a found message is ours.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table mailboxes add column canary jsonb').execute(db)
  await sql.raw(`create table canaries (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    mailbox_id uuid not null references mailboxes (id) on delete cascade,
    token text not null,
    state text not null default 'sent' check (state in ('sent', 'detected', 'missed')),
    created_at timestamptz not null default now(),
    detected_at timestamptz,
    door text
  )`).execute(db)
  await sql.raw('create index canaries_mailbox on canaries (mailbox_id, created_at desc)').execute(db)
  await sql.raw("create index canaries_waiting on canaries (created_at) where state = 'sent'").execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists canaries').execute(db)
  await sql.raw('alter table mailboxes drop column canary').execute(db)
}
