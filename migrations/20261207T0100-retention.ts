import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Content is kept only as long as it should be: after a tenant's retention period (or on a sender's
// erasure) a message's content, its launch's inputs and outputs and the replies about it are
// removed, the rows kept for counts and for exactly-once. content_removed says when and why; the
// partial index lets the hourly sweep find what is due without reading what it already cleared.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table tenants add column retention_days integer').execute(db)
  await sql.raw('alter table messages add column content_removed_at timestamptz').execute(db)
  await sql.raw("alter table messages add column content_removed_by text check (content_removed_by in ('retention', 'erasure'))").execute(db)
  await sql.raw('create index messages_retention_due on messages (received_at) where content_removed_at is null').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists messages_retention_due').execute(db)
  await sql.raw('alter table messages drop column if exists content_removed_by').execute(db)
  await sql.raw('alter table messages drop column if exists content_removed_at').execute(db)
  await sql.raw('alter table tenants drop column if exists retention_days').execute(db)
}
