import { sql, type Kysely } from 'kysely'
import type { Database } from '../../src/db/schema.js'

/**
 * The next decision recorded for any message fails once, as it would in a database outage or a
 * crash between storing and deciding. (A sequence counts, because it is not rolled back with the
 * failing statement.)
 */
export async function refuseNextDecision (db: Kysely<Database>): Promise<void> {
  await sql.raw('create sequence refusals').execute(db)
  await sql.raw(`create function refuse_once() returns trigger language plpgsql as $$
    begin
      if new.status <> 'received' and nextval('refusals') = 1 then raise exception 'database hiccup'; end if;
      return new;
    end $$`).execute(db)
  await sql.raw('create trigger refuse_once before update on messages for each row execute function refuse_once()').execute(db)
}
