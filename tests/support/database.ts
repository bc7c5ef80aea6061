import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { Test } from 'tap'
import { openDatabase, pgliteStartParams, type DatabaseHandle } from '../../src/db/database.js'
import { writePGliteTemplate } from '../../src/db/pglite-template.js'
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

export async function createPostgresDatabase (baseUrl: string): Promise<{ url: string, drop: () => Promise<void> }> {
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

// Creating an in-memory PGlite runs initdb: about 3.5 s on this machine, in every test file, for
// every database. A migrated one is dumped once (per migration set) into the temp directory and
// each test starts from a copy of it in about a second. The key covers the migrations' contents
// and PGlite's version, so a changed migration never starts from an old template.
const templateFile = ((): string => {
  const dir = path.resolve(import.meta.dirname, '../../migrations')
  const hash = createHash('sha256')
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(path.join(dir, file)))
  const pglite = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }
  hash.update(pglite.version)
  return path.join(tmpdir(), `mailrun-test-pglite-${hash.digest('hex').slice(0, 16)}.tar.gz`)
})()

let template: Promise<Blob> | null = null

async function migratedTemplate (): Promise<Blob> {
  template ??= (async () => {
    try {
      return new Blob([await readFile(templateFile)])
    } catch {}
    // The same template the build makes for a first start, written to the temp directory.
    await writePGliteTemplate(await pgliteStartParams(), templateFile)
    return new Blob([await readFile(templateFile)])
  })()
  return await template
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
  } else if (options.migrate !== false) {
    handle = await openDatabase({ kind: 'pglite', memory: true, from: await migratedTemplate() })
  } else {
    handle = await openDatabase({ kind: 'pglite', memory: true })
  }
  t.teardown(async () => {
    await handle.close()
    await drop()
  })
  // A template is migrated already; this only checks it (and migrates PostgreSQL).
  if (options.migrate !== false) await migrateToLatest(handle.db)
  return handle
}
