import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryCompiler, QueryResult, TransactionSettings } from 'kysely'

// PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses an escaped lone surrogate. Both
// arrive in mail that every MTA passes (a quoted-printable =00, an RFC 2047 word, a header byte),
// and in admin input. A value that cannot be stored would make its message undecidable forever,
// so every value bound to any query is made storable here, in one place (the dialect's driver): NUL becomes U+FFFD, as
// does a lone surrogate, in plain strings and inside JSON text bound for jsonb alike.

const REPLACEMENT = '\uFFFD'
// In JSON text: an escaped NUL, or an escaped surrogate (JSON.stringify writes lone ones so).
const ESCAPED_UNSTORABLE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i

/** The text with NUL and lone surrogates replaced by U+FFFD. */
export function storableText (text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed()
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', REPLACEMENT) : wellFormed
}

function storableJson (value: unknown): unknown {
  if (typeof value === 'string') return storableText(value)
  if (Array.isArray(value)) return value.map(storableJson)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]))
  }
  return value
}

export function storableValue (value: unknown): unknown {
  if (typeof value !== 'string') return value
  const text = storableText(value)
  // JSON text for a jsonb column: the escaped forms are what PostgreSQL refuses there.
  if (ESCAPED_UNSTORABLE.test(text) && (text.startsWith('{') || text.startsWith('['))) {
    try {
      return JSON.stringify(storableJson(JSON.parse(text)))
    } catch {
      return text
    }
  }
  return text
}

/** The query with every bound value made storable; the same object when none needed it. */
function storableQuery (query: CompiledQuery): CompiledQuery {
  let parameters: unknown[] | null = null
  query.parameters.forEach((value, at) => {
    const storable = storableValue(value)
    if (storable === value) return
    parameters ??= [...query.parameters]
    parameters[at] = storable
  })
  return parameters === null ? query : { ...query, parameters }
}

class StorableConnection implements DatabaseConnection {
  constructor (readonly inner: DatabaseConnection) {}

  async executeQuery<R> (query: CompiledQuery): Promise<QueryResult<R>> {
    return await this.inner.executeQuery<R>(storableQuery(query))
  }

  streamQuery<R> (query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(storableQuery(query), chunkSize)
  }
}

const innerOf = (connection: DatabaseConnection): DatabaseConnection => (connection as StorableConnection).inner

/**
 * Transaction control is sent through the wrapping connection, as Kysely hands it over: its log hook
 * (mailrun_database_statements_total) is on that connection, and begin and commit are round trips
 * too. Only releasing goes to the inner driver's own connection, which it keeps track of.
 *
 * The values are made storable as the driver sends them, after Kysely compiled the query. A Kysely
 * plugin did it on the query's tree, which rebuilt every node of every query to change a value in
 * a few: 2.6 % of mailrun's busy time in a push run's profile, nine tenths of it the rebuilding.
 */
class StorableDriver implements Driver {
  constructor (readonly inner: Driver) {}
  async init (): Promise<void> { await this.inner.init() }
  async acquireConnection (): Promise<DatabaseConnection> { return new StorableConnection(await this.inner.acquireConnection()) }
  async beginTransaction (connection: DatabaseConnection, settings: TransactionSettings): Promise<void> { await this.inner.beginTransaction(connection, settings) }
  async commitTransaction (connection: DatabaseConnection): Promise<void> { await this.inner.commitTransaction(connection) }
  async rollbackTransaction (connection: DatabaseConnection): Promise<void> { await this.inner.rollbackTransaction(connection) }
  async savepoint (connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (this.inner.savepoint === undefined) throw new Error('this database driver has no savepoints')
    await this.inner.savepoint(connection, name, compile)
  }

  async rollbackToSavepoint (connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (this.inner.rollbackToSavepoint === undefined) throw new Error('this database driver has no savepoints')
    await this.inner.rollbackToSavepoint(connection, name, compile)
  }

  async releaseSavepoint (connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (this.inner.releaseSavepoint === undefined) throw new Error('this database driver has no savepoints')
    await this.inner.releaseSavepoint(connection, name, compile)
  }

  async releaseConnection (connection: DatabaseConnection): Promise<void> { await this.inner.releaseConnection(innerOf(connection)) }
  async destroy (): Promise<void> { await this.inner.destroy() }
}

/** The dialect, every value it sends made storable (NUL and lone surrogates become U+FFFD). */
export function storableDialect (dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new StorableDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db)
  }
}
