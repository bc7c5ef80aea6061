import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// When the tenant's admins were told by email that an alert channel has failed for a day: once per
// failing spell (cleared with failing_since when a delivery succeeds). And when the channel may be
// sent to next: one request a second per channel, whichever pass or replica sends.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table notification_channels add column failing_told_at timestamptz').execute(db)
  await sql.raw('alter table notification_channels add column next_send_at timestamptz').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table notification_channels drop column next_send_at').execute(db)
  await sql.raw('alter table notification_channels drop column failing_told_at').execute(db)
}
