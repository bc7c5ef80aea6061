import type { FastifyInstance } from 'fastify'
import type { DNSResolver } from 'mailauth'
import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { buildApp } from '../../src/app.js'
import { createSecretBox } from '../../src/crypto/secret-box.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/db/database.js'
import { captureLogger, type CapturedLogger } from './logger.js'
import { createTestDatabase } from './database.js'
import { ADMIN_KEY } from './admin.js'

export interface TestApp {
  app: FastifyInstance
  database: DatabaseHandle
  config: Config
  log: CapturedLogger
}

/** Builds the real app on a real (test) database, with config given explicitly. */
export async function buildTestApp (t: Test, options: { env?: Record<string, string>, database?: DatabaseHandle, dnsResolver?: DNSResolver } = {}): Promise<TestApp> {
  const config = loadConfig({ LOG_LEVEL: 'info', MAILRUN_ADMIN_KEY: ADMIN_KEY, MAILRUN_OUTBOUND_DENY: 'none', ...options.env })
  const database = options.database ?? await createTestDatabase(t)
  const log = captureLogger(config.logLevel)
  const secrets = createSecretBox(randomBytes(32))
  const app = await buildApp({ config, database, logger: log.logger, secrets, ...(options.dnsResolver !== undefined ? { dnsResolver: options.dnsResolver } : {}) })
  t.teardown(async () => { await app.close() })
  await app.ready()
  return { app, database, config, log }
}
