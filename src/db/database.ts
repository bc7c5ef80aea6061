import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { PGliteDialect } from './pglite-dialect.js'
import { namedStatements } from './prepared-statements.js'
import { readPGliteTemplate } from './pglite-template.js'
import type { Database } from './schema.js'
import { storableDialect } from './storable-text.js'
import { inProcessChangeFeed, postgresChangeFeed, type ChangeFeed } from './change-feed.js'
import type { Config } from '../config.js'

export type DatabaseKind = 'pglite' | 'postgres'

export interface DatabaseHandle {
  db: Kysely<Database>
  kind: DatabaseKind
  /** Where the data lives, without credentials: safe to log. */
  location: string
  /** The embedded database's data directory (MAILRUN_DATA_DIR), when it has one. */
  dataDir?: string
  /** Row changes told to every instance on this database (the IMAP watcher follows mailboxes). */
  changes: ChangeFeed
  /** Statements sent through `db` since it opened (the metric mailrun_database_statements_total). */
  statements: () => number
  close: () => Promise<void>
}

/** Kysely's log hook, counting every statement it runs (and each that failed). */
function statementCounter (): { log: () => void, statements: () => number } {
  let count = 0
  return { log: () => { count++ }, statements: () => count }
}

export type DatabaseTarget =
  /** `prepared`: the statements marked PREPARED run as named ones (default true; MAILRUN_DATABASE_PREPARED). */
  | { kind: 'postgres', url: string, prepared?: boolean }
  /** `templateFile`: where a new data directory is unpacked from (default: the one the build made). */
  | { kind: 'pglite', dataDir: string, templateFile?: string }
  /** `from`: a dumped data directory to start from (the tests start from a migrated copy). */
  | { kind: 'pglite', memory: true, from?: Blob }

const INT8_OID = 20

// pg returns int8 as a string; PGlite returns a number when it fits. mailrun's int8 columns
// (job ids, IMAP UIDs, counts) fit, so both drivers hand out numbers.
function parseInt8 (value: string): number | string {
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : value
}

export function describePostgresUrl (url: string): string {
  try {
    const u = new URL(url)
    return `PostgreSQL at ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`
  } catch {
    return 'PostgreSQL'
  }
}

async function openPostgres (url: string, prepared: boolean): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser
    }
  })
  // A connection losing its server must never crash the process: the pool reports idle clients
  // here, but a client checked out between two queries (inside a transaction, say) emits 'error'
  // on itself, and an 'error' event without a listener ends the process. Its query fails, its
  // caller answers 503 or retries, and the pool opens a fresh connection for the next one.
  pool.on('error', () => {})
  const named = prepared ? namedStatements() : null
  pool.on('connect', (client) => {
    client.on('error', () => {})
    named?.install(client)
  })
  const counter = statementCounter()
  const db = new Kysely<Database>({ dialect: storableDialect(new PostgresDialect({ pool })), log: counter.log })
  return { db, kind: 'postgres', location: describePostgresUrl(url), changes: postgresChangeFeed(url, db), statements: counter.statements, close: async () => { await db.destroy() } }
}

const PGLITE_SHARED_BUFFERS = '16MB'

/** What every embedded PGlite starts with (the template the build makes too). */
export async function pgliteStartParams (): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite')
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`]
}

async function openPGlite (dataDir: string | undefined, from?: Blob, templateFile?: string): Promise<DatabaseHandle> {
  // Loaded only for the embedded database: a PostgreSQL deployment never carries it.
  const { PGlite } = await import('@electric-sql/pglite')
  let location = 'PGlite in memory'
  let pglite: PGlite
  // PostgreSQL's default 128 MB of shared buffers lives in PGlite's WebAssembly memory and is all
  // resident from the start (a reopened data directory: 289 MB with it, 161 MB with 16 MB, measured
  // with PGlite alone); the files under it are still cached by the operating system.
  const startParams = await pgliteStartParams()
  if (dataDir === undefined) {
    pglite = new PGlite(from !== undefined ? { loadDataDir: from, startParams } : { startParams })
  } else {
    const dir = path.resolve(dataDir, 'pgdata')
    await mkdir(dir, { recursive: true })
    const template = existsSync(path.join(dir, 'PG_VERSION')) ? null : await readPGliteTemplate(templateFile)
    pglite = new PGlite(dir, template !== null ? { startParams, loadDataDir: template } : { startParams })
    location = `PGlite in ${dir}`
  }
  await pglite.waitReady
  const counter = statementCounter()
  const db = new Kysely<Database>({ dialect: storableDialect(new PGliteDialect(pglite)), log: counter.log })
  // Kysely only destroys a driver it has used; the PGlite instance is closed either way.
  const close = async (): Promise<void> => {
    await db.destroy()
    if (!pglite.closed) await pglite.close()
  }
  return { db, kind: 'pglite', location, changes: inProcessChangeFeed(), statements: counter.statements, close, ...(dataDir !== undefined ? { dataDir: path.resolve(dataDir) } : {}) }
}

export async function openDatabase (target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === 'postgres') return await openPostgres(target.url, target.prepared ?? true)
  return await openPGlite('dataDir' in target ? target.dataDir : undefined, 'from' in target ? target.from : undefined, 'templateFile' in target ? target.templateFile : undefined)
}

/** The database the configuration names: PostgreSQL when DATABASE_URL is set, else PGlite. */
export async function openConfiguredDatabase (config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePrepared'>): Promise<DatabaseHandle> {
  return config.databaseUrl !== undefined
    ? await openDatabase({ kind: 'postgres', url: config.databaseUrl, prepared: config.databasePrepared })
    : await openDatabase({ kind: 'pglite', dataDir: config.dataDir })
}
