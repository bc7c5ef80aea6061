import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/db/database.js'
import { captureLogger, type CapturedLogger } from './logger.js'
import { createTestDatabase } from './database.js'

export interface TestApp {
  app: FastifyInstance
  database: DatabaseHandle
  config: Config
  log: CapturedLogger
}

/** Builds the real app on a real (test) database, with config given explicitly. */
export async function buildTestApp (t: Test, options: { env?: Record<string, string>, database?: DatabaseHandle } = {}): Promise<TestApp> {
  const config = loadConfig({ LOG_LEVEL: 'info', ...options.env })
  const database = options.database ?? await createTestDatabase(t)
  const log = captureLogger(config.logLevel)
  const app = await buildApp({ config, database, logger: log.logger })
  t.teardown(async () => { await app.close() })
  await app.ready()
  return { app, database, config, log }
}
