import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Where a robot's email attachments go: an Orchestrator storage bucket and what it accepts.
  'alter table robots add column attachments jsonb',
  // The files a launch uploads before it starts its job. Their bytes stay in the message's raw
  // copy (kept for this launch) until they are uploaded; the rows say what went where.
  `create table launch_files (
    launch_id uuid not null references launches (id) on delete cascade,
    ordinal integer not null,
    tenant_id uuid not null,
    attachment_index integer not null,
    name text not null,
    content_type text not null,
    size_bytes integer not null,
    bucket_path text not null,
    uploaded_at timestamptz,
    primary key (launch_id, ordinal)
  )`
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists launch_files').execute(db)
  await sql.raw('alter table robots drop column if exists attachments').execute(db)
}
