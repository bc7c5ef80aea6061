import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

// Each tenant owns mail domains; its mailboxes and console users have addresses in them, so no
// tenant can register an address in another's domain or learn what exists there. A domain has one
// owner: the partial unique index holds that for every claim made from now on. The domains come
// from each tenant's mailboxes; one used by two tenants before is kept for both, marked
// claimed_twice (`mailrun doctor` reports it) until the instance admin settles it.
export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`create table tenant_domains (
    tenant_id uuid not null references tenants(id) on delete cascade,
    domain text not null,
    claimed_twice boolean not null default false,
    created_at timestamptz not null default now(),
    primary key (tenant_id, domain)
  )`).execute(db)
  await sql.raw('create unique index tenant_domains_one_owner on tenant_domains (domain) where not claimed_twice').execute(db)
  await sql.raw(`insert into tenant_domains (tenant_id, domain, claimed_twice)
    select distinct m.tenant_id, split_part(m.address, '@', 2),
      (select count(distinct o.tenant_id) from mailboxes o where split_part(o.address, '@', 2) = split_part(m.address, '@', 2)) > 1
    from mailboxes m`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists tenant_domains').execute(db)
}
