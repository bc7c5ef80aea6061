import { sql, type Kysely } from 'kysely'
import { withTimeout } from '../async/with-timeout.js'
import { pendingMigrations } from './migrate.js'

export type DatabaseHealth = { ok: true } | { ok: false, reason: string }

/** Is the database answering, with every migration this code knows applied? */
export async function checkDatabase (db: Kysely<any>, timeoutMs = 3000): Promise<DatabaseHealth> {
  try {
    await withTimeout(sql`select 1`.execute(db), timeoutMs, () => new Error(`the database did not answer within ${timeoutMs} ms`))
  } catch (error) {
    const code = (error as { code?: string }).code
    const detail = code ?? (error instanceof Error ? error.message : String(error))
    return { ok: false, reason: `database unreachable (${detail})` }
  }
  const pending = await pendingMigrations(db)
  if (pending.length > 0) return { ok: false, reason: `migrations not applied: ${pending.join(', ')}; run npm run migrate` }
  return { ok: true }
}
