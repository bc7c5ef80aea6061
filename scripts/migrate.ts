import { ConfigError, loadConfig } from '../src/config.js'
import { migrateToLatest, pendingMigrations } from '../src/db/migrate.js'
import { openConfiguredDatabase } from '../src/db/database.js'
import { lockDataDir } from '../src/db/data-dir-lock.js'

try {
  const config = loadConfig(process.env)
  // The embedded database must not be migrated under a running mailrun.
  const lock = config.databaseUrl === undefined ? await lockDataDir(config.dataDir) : null
  const database = await openConfiguredDatabase(config)
  try {
    const applied = await migrateToLatest(database.db)
    const pending = await pendingMigrations(database.db)
    console.log(`${database.location}: ${applied.length === 0 ? 'already up to date' : `applied ${applied.join(', ')}`}${pending.length > 0 ? `; still pending: ${pending.join(', ')}` : ''}`)
  } finally {
    await database.close()
    await lock?.release()
  }
} catch (error) {
  console.error(`mailrun migrate: ${error instanceof ConfigError ? error.message : (error as Error).message}`)
  process.exitCode = 1
}
