import { Migrator, type Kysely, type MigrationProvider } from 'kysely'
import { migrations } from '../../migrations/index.js'

const provider: MigrationProvider = { getMigrations: async () => migrations }

function migrator (db: Kysely<any>): Migrator {
  return new Migrator({ db, provider })
}

/** Applies every migration not yet applied and answers the names it applied. */
export async function migrateToLatest (db: Kysely<any>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new Error(`migration ${failed ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** Names of the migrations this code knows that the database has not applied. */
export async function pendingMigrations (db: Kysely<any>): Promise<string[]> {
  const all = await migrator(db).getMigrations()
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name)
}
