import type { PGlite } from '@electric-sql/pglite'
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings
} from 'kysely'
import { Mutex } from './mutex.js'

// PGlite is a single Postgres backend. Kysely runs a transaction as several queries on one
// "connection"; if two callers shared the backend between those queries, their statements
// would interleave inside one another's transaction. So the driver lends the backend to one
// caller at a time, from acquireConnection until releaseConnection.

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite
  constructor (pglite: PGlite) { this.#pglite = pglite }

  async executeQuery<R> (compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#pglite.query<R>(compiled.sql, [...compiled.parameters], { rowMode: 'object' })
    const command = (result as { command?: string }).command
    const counted = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
    return {
      rows: result.rows,
      ...(counted && result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {})
    }
  }

  async * streamQuery<R> (): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on the embedded database')
  }
}

class PGliteDriver implements Driver {
  readonly #pglite: PGlite
  readonly #connection: PGliteConnection
  readonly #mutex = new Mutex()
  readonly #releases = new Map<DatabaseConnection, () => void>()

  constructor (pglite: PGlite) {
    this.#pglite = pglite
    this.#connection = new PGliteConnection(pglite)
  }

  async init (): Promise<void> {
    await this.#pglite.waitReady
  }

  async acquireConnection (): Promise<DatabaseConnection> {
    const release = await this.#mutex.lock()
    this.#releases.set(this.#connection, release)
    return this.#connection
  }

  async beginTransaction (connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : ''
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`))
  }

  async commitTransaction (connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }

  async rollbackTransaction (connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }

  async releaseConnection (connection: DatabaseConnection): Promise<void> {
    const release = this.#releases.get(connection)
    this.#releases.delete(connection)
    release?.()
  }

  async destroy (): Promise<void> {
    const release = await this.#mutex.lock()
    try {
      if (!this.#pglite.closed) await this.#pglite.close()
    } finally {
      release()
    }
  }
}

export class PGliteDialect implements Dialect {
  readonly #pglite: PGlite
  constructor (pglite: PGlite) { this.#pglite = pglite }

  createAdapter (): DialectAdapter { return new PostgresAdapter() }
  createDriver (): Driver { return new PGliteDriver(this.#pglite) }
  createQueryCompiler (): QueryCompiler { return new PostgresQueryCompiler() }
  createIntrospector (db: Kysely<any>): DatabaseIntrospector { return new PostgresIntrospector(db) }
}
