import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Digests: a channel may get a daily or weekly summary, at 08:00 in the tenant's time zone.
// `digest_period` is the last period told (a date, or a week's Monday), so replicas and restarts
// send each digest once.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw("alter table tenants add column time_zone text not null default 'UTC'").execute(db)
  await sql.raw("alter table notification_channels add column digest text check (digest in ('daily', 'weekly'))").execute(db)
  await sql.raw('alter table notification_channels add column digest_period text').execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table notification_channels drop column digest_period').execute(db)
  await sql.raw('alter table notification_channels drop column digest').execute(db)
  await sql.raw('alter table tenants drop column time_zone').execute(db)
}
