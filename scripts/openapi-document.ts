import { randomBytes } from 'node:crypto'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { stringify } from 'yaml'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createSecretBox } from '../src/crypto/secret-box.js'
import type { Database } from '../src/db/schema.js'
import { inProcessChangeFeed } from '../src/db/change-feed.js'
import { createLogger } from '../src/logger.js'

/** The OpenAPI document of the routes as the code declares them, as YAML text. */
export async function renderOpenApi (): Promise<string> {
  // Building the routes needs no database: a pool that is never asked to connect will do.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://unused@127.0.0.1:1/unused' }) }) })
  const app = await buildApp({
    config: loadConfig({ MAILRUN_PUBLIC_URL: 'https://mailrun.example.com' }),
    database: { db, kind: 'postgres', location: 'none', changes: inProcessChangeFeed(), statements: () => 0, close: async () => { await db.destroy() } },
    logger: createLogger('silent', false),
    secrets: createSecretBox(randomBytes(32))
  })
  try {
    await app.ready()
    return stringify(app.swagger(), { lineWidth: 0, aliasDuplicateObjects: false })
  } finally {
    await app.close()
    await db.destroy()
  }
}
