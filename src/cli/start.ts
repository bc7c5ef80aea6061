import closeWithGrace from 'close-with-grace'
import { buildApp } from '../app.js'
import { startBackgroundWork } from '../background.js'
import { ensureAdminKey } from '../auth/api-keys.js'
import { createSecretBox, type SecretBox } from '../crypto/secret-box.js'
import { loadSecretKey } from '../crypto/secret-key.js'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { DataDirLocked, lockDataDir, type DataDirLock } from '../db/data-dir-lock.js'
import { openConfiguredDatabase, type DatabaseHandle } from '../db/database.js'
import { migrateToLatest } from '../db/migrate.js'
import { createLogger } from '../logger.js'
import { PUBLIC_URL_WARNINGS, publicUrlProblems } from '../net/public-url.js'
import { createSmtpDoor, type SmtpDoor } from '../smtp-door/server.js'
import { startIdleReclaim } from '../memory/idle-reclaim.js'
import { startTracing } from '../telemetry/tracing.js'

function fail (message: string): never {
  process.stderr.write(`mailrun: ${message}\n`)
  process.exit(1)
}

function describe (error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0])
  if (error instanceof Error) return (error as { code?: string }).code ? `${error.message} (${(error as { code?: string }).code})` : error.message
  return String(error)
}

// Printed, not logged: the key is shown once to whoever started mailrun and never enters the logs.
function printAdminKey (key: string, publicUrl: string): void {
  process.stdout.write([
    '',
    'mailrun generated the instance-admin API key (shown only this once; only its hash is stored):',
    '',
    `    ${key}`,
    '',
    'Use it to create tenants and their keys, for example:',
    `    curl -H "Authorization: Bearer ${key}" ${publicUrl}/api/v1/tenants`,
    'To choose the key yourself instead, set MAILRUN_ADMIN_KEY.',
    '',
    ''
  ].join('\n'))
}

/** `mailrun start` (and `npm start`): check the configuration, open and migrate the database, serve. */
export async function start (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message}\nFix the variables above and start again.`)
    throw error
  }
  const logger = createLogger(config.logLevel)
  const tracing = await startTracing(process.env, logger)

  // One process per embedded data directory; PostgreSQL is shared by design.
  let lock: DataDirLock | null = null
  if (config.databaseUrl === undefined) {
    try {
      lock = await lockDataDir(config.dataDir)
    } catch (error) {
      fail(error instanceof DataDirLocked ? `refusing to start: ${error.message}` : `cannot lock the data directory ${config.dataDir}: ${describe(error)}. Check that it is writable.`)
    }
  }

  // The whole configuration is checked before the database is touched: a missing
  // MAILRUN_SECRET_KEY must not wait until after the migrations ran.
  let secrets: SecretBox
  try {
    const loaded = await loadSecretKey(config)
    if (loaded.generatedAt !== undefined) logger.warn(`generated the secret key for stored credentials at ${loaded.generatedAt}; back it up with the data directory (without it, stored passwords cannot be read)`)
    secrets = createSecretBox(loaded.key)
  } catch (error) {
    fail(describe(error))
  }

  let database: DatabaseHandle
  try {
    database = await openConfiguredDatabase(config)
    const applied = await migrateToLatest(database.db)
    if (applied.length > 0) logger.info({ migrations: applied }, `applied ${applied.length} migration(s)`)
  } catch (error) {
    fail(`cannot open the database: ${describe(error)}.${config.databaseUrl !== undefined ? ' Check DATABASE_URL and that the server is running.' : ` Check that ${config.dataDir} is writable.`}`)
  }

  const generatedAdminKey = await ensureAdminKey(database.db, config.adminKey)
  if (generatedAdminKey !== null) printAdminKey(generatedAdminKey, config.publicUrl)

  const app = await buildApp({ config, database, logger, secrets })
  try {
    await app.listen({
      port: config.port,
      host: config.host,
      listenTextResolver: (address) => `mailrun listening on ${address}, database: ${database.location}; console ${config.publicUrl}/console, API docs ${config.publicUrl}/docs`
    })
    for (const problem of publicUrlProblems(config.publicUrl)) logger.warn({ publicUrl: config.publicUrl }, PUBLIC_URL_WARNINGS[problem])
  } catch (error) {
    await database.close()
    fail(`cannot listen on ${config.host}:${config.port}: ${describe(error)}. Set PORT or HOST to a free address.`)
  }

  let smtpDoor: SmtpDoor | null = null
  if (config.smtpDoor !== undefined) {
    try {
      smtpDoor = createSmtpDoor({ config: config.smtpDoor, name: new URL(config.publicUrl).hostname, host: config.host, maxMessageBytes: config.maxMessageBytes, db: database.db, receiver: app.receiver, logger, failures: app.failures })
      const port = await smtpDoor.listen()
      logger.info(`SMTP door (${config.smtpDoor.protocol.toUpperCase()}) listening on ${config.host}:${port}${config.smtpDoor.tls !== undefined ? ', STARTTLS offered' : ''}${config.smtpDoor.auth !== undefined ? ', AUTH required' : ''}`)
    } catch (error) {
      await app.close()
      await database.close()
      fail(`cannot start the SMTP door on ${config.host}:${config.smtpDoor.port}: ${describe(error)}. Set MAILRUN_SMTP_DOOR_PORT to a free port${config.smtpDoor.tls !== undefined ? ' and check MAILRUN_SMTP_DOOR_TLS_CERT/KEY' : ''}.`)
    }
  }

  const stopBackground = startBackgroundWork(app)
  let requests = 0
  app.server.on('request', () => { requests++ })
  const stopReclaim = startIdleReclaim({
    activity: () => requests,
    quietMs: 5_000,
    checkMs: 1_000,
    onReclaim: (young) => { logger.debug({ youngGenerationMb: [young.before, young.after].map((bytes) => Math.round(bytes / 1048576)) }, 'quiet: memory given back') }
  })

  // On SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then close the database.
  closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'shutting down after an unexpected error')
    else logger.info(`received ${signal ?? 'shutdown'}, shutting down`)
    // The door first: an MTA mid-delivery gets no 250 and keeps the message for later.
    await smtpDoor?.close()
    stopReclaim()
    await stopBackground()
    await app.close()
    await tracing.shutdown()
    await database.close()
    await lock?.release()
  })
}
