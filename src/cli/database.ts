import { ConfigError, loadConfig, type Config } from '../config.js'
import { DataDirLocked, lockDataDir, type DataDirLock } from '../db/data-dir-lock.js'
import { openConfiguredDatabase, type DatabaseHandle } from '../db/database.js'

/** A problem the operator can fix: printed as it is, no stack trace, exit status 1. */
export class CommandError extends Error {}

export function configFrom (env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandError(error.message)
    throw error
  }
}

/** The embedded data directory, locked for this command; held by a running mailrun, a CommandError naming it. */
export async function lockEmbedded (dataDir: string): Promise<DataDirLock> {
  try {
    return await lockDataDir(dataDir)
  } catch (error) {
    if (error instanceof DataDirLocked) throw new CommandError(error.message)
    throw error
  }
}

/**
 * Runs `work` on the configured database. The embedded database is locked for the duration: it
 * must not be changed under a running mailrun, and PGlite cannot be opened by two processes.
 */
export async function withDatabase<T> (config: Config, work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
  const lock = config.databaseUrl === undefined ? await lockEmbedded(config.dataDir) : null
  try {
    let database: DatabaseHandle
    try {
      database = await openConfiguredDatabase(config)
    } catch (error) {
      throw new CommandError(`cannot open the database: ${(error as Error).message}.${config.databaseUrl !== undefined ? ' Check DATABASE_URL and that the server is running.' : ` Check that ${config.dataDir} is writable.`}`)
    }
    try {
      return await work(database)
    } finally {
      await database.close()
    }
  } finally {
    await lock?.release()
  }
}
