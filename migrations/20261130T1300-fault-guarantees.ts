import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Since when a launch may have started a job that mailrun has not seen (a StartJobs or
  // AddQueueItem whose answer never came, or a claim left by a dead process). Until a quiet period
  // has passed, the launch only looks the job up; it never starts another.
  'alter table launches add column unsure_since timestamptz',
  // A message that cannot be decided is retried with a backoff of its own, then failed, so one
  // poison message never holds up the recovery of the others.
  'alter table messages add column decide_attempts integer not null default 0',
  'alter table messages add column next_decide_at timestamptz',
  'drop index if exists messages_unprocessed_idx',
  "create index messages_undecided_idx on messages (coalesce(next_decide_at, received_at)) where status = 'received'"
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists messages_undecided_idx').execute(db)
  await sql.raw("create index messages_unprocessed_idx on messages (received_at) where status = 'received'").execute(db)
  await sql.raw('alter table messages drop column next_decide_at').execute(db)
  await sql.raw('alter table messages drop column decide_attempts').execute(db)
  await sql.raw('alter table launches drop column unsure_since').execute(db)
}
