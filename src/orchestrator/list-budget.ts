import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

// UiPath Cloud limits collection reads with a filter (GET /odata/Jobs?$filter=…, and the same for
// QueueItems) to 100 requests per minute per tenant for non-robot callers, and answers 429 past
// it; single reads by key are not limited. mailrun spends at most `perMinute` of them per tenant
// and calendar minute, counted in the database so that every instance shares one budget. A fixed
// window lets two adjacent minutes' budgets fall within one rolling minute: the default (30) keeps
// even that under the limit.

/** Takes one collection read from the tenant's budget for this minute; false when it is spent. */
export async function takeListRead (db: Kysely<Database>, tenantId: string, perMinute: number): Promise<boolean> {
  if (perMinute <= 0) return false
  const taken = await sql<{ used: number }>`
    insert into orchestrator_list_budget as b (tenant_id, window_start, used)
    values (${tenantId}, date_trunc('minute', now()), 1)
    on conflict (tenant_id) do update
      set used = case when b.window_start = excluded.window_start then b.used + 1 else 1 end,
          window_start = excluded.window_start
      where b.window_start <> excluded.window_start or b.used < ${perMinute}
    returning used`.execute(db)
  return taken.rows.length > 0
}
