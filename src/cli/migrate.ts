import { migrateToLatest, pendingMigrations } from '../db/migrate.js'
import { configFrom, withDatabase } from './database.js'

/** `mailrun migrate`: applies pending migrations and says what it did (start does the same). */
export async function migrate (): Promise<number> {
  const config = configFrom(process.env)
  await withDatabase(config, async (database) => {
    const applied = await migrateToLatest(database.db)
    const pending = await pendingMigrations(database.db)
    process.stdout.write(`${database.location}: ${applied.length === 0 ? 'already up to date' : `applied ${applied.join(', ')}`}${pending.length > 0 ? `; still pending: ${pending.join(', ')}` : ''}\n`)
  })
  return 0
}
