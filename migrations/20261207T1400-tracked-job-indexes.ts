import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// The job tracker's two claims, on indexes of their own: young jobs by their launch time (a pass
// every quarter second reads only jobs launched within the interval), older ones per tenant in the
// order they are due (each tenant's share read from its own part of the index). Without them each
// pass read every running launch: with 15,000 running, an idle embedded database spent a quarter
// of a core on it.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw("create index launches_young_jobs_idx on launches (launched_at) where state = 'launched' and job_id is not null").execute(db)
  await sql.raw("create index launches_tracked_jobs_idx on launches (tenant_id, next_attempt_at) where state = 'launched' and job_id is not null").execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop index launches_tracked_jobs_idx').execute(db)
  await sql.raw('drop index launches_young_jobs_idx').execute(db)
}
