import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'

export const testDatabaseUrl = process.env.TEST_DATABASE_URL?.trim() || undefined
export const testDatabaseKind = testDatabaseUrl !== undefined ? 'postgres' : 'pglite'

export interface TestDatabase extends DatabaseHandle {
  /** Set on PostgreSQL: the URL of this test's own database. */
  url?: string
}

function withDatabaseName (url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

async function createPostgresDatabase (baseUrl: string): Promise<{ url: string, drop: () => Promise<void> }> {
  const name = `mailrun_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const drop = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: baseUrl })
    await client.connect()
    try {
      await client.query(`drop database if exists ${name} with (force)`)
    } finally {
      await client.end()
    }
  }
  return { url: withDatabaseName(baseUrl, name), drop }
}

/**
 * A database of this test's own: a fresh PostgreSQL database when TEST_DATABASE_URL is set,
 * else an in-memory PGlite. Migrated unless asked not to; closed and dropped at teardown.
 */
export async function createTestDatabase (t: Test, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let handle: TestDatabase
  let drop = async (): Promise<void> => {}
  if (testDatabaseUrl !== undefined) {
    const created = await createPostgresDatabase(testDatabaseUrl)
    drop = created.drop
    handle = { ...(await openDatabase({ kind: 'postgres', url: created.url })), url: created.url }
  } else {
    handle = await openDatabase({ kind: 'pglite', memory: true })
  }
  t.teardown(async () => {
    await handle.close()
    await drop()
  })
  if (options.migrate !== false) await migrateToLatest(handle.db)
  return handle
}
