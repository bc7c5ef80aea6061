import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { openConfiguredDatabase, type DatabaseHandle } from './db/database.js'
import { migrateToLatest } from './db/migrate.js'
import { createLogger } from './logger.js'

function fail (message: string): never {
  process.stderr.write(`mailrun: ${message}\n`)
  process.exit(1)
}

function describe (error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0])
  if (error instanceof Error) return (error as { code?: string }).code ? `${error.message} (${(error as { code?: string }).code})` : error.message
  return String(error)
}

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message}\nFix the variables above and start again.`)
    throw error
  }
  const logger = createLogger(config.logLevel)

  let database: DatabaseHandle
  try {
    database = await openConfiguredDatabase(config)
    const applied = await migrateToLatest(database.db)
    if (applied.length > 0) logger.info({ migrations: applied }, `applied ${applied.length} migration(s)`)
  } catch (error) {
    fail(`cannot open the database: ${describe(error)}.${config.databaseUrl !== undefined ? ' Check DATABASE_URL and that the server is running.' : ` Check that ${config.dataDir} is writable.`}`)
  }

  const app = await buildApp({ config, database, logger })
  try {
    await app.listen({
      port: config.port,
      host: config.host,
      listenTextResolver: (address) => `mailrun listening on ${address}, database: ${database.location}`
    })
  } catch (error) {
    await database.close()
    fail(`cannot listen on ${config.host}:${config.port}: ${describe(error)}. Set PORT or HOST to a free address.`)
  }

  // On SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then close the database.
  closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'shutting down after an unexpected error')
    else logger.info(`received ${signal ?? 'shutdown'}, shutting down`)
    await app.close()
    await database.close()
  })
}

await main()
