import type { ClientBase, QueryConfig } from 'pg'
import { sql, type RawBuilder } from 'kysely'

// PostgreSQL plans every statement it is sent unnamed, and the statement that records a message's
// decision and takes its launch is a large one: planning it was 0.37 ms of its 0.87 ms on an idle
// server, and about a sixth of PostgreSQL's CPU a message in the push bench. Sent as a named
// statement, each connection plans it once and then reuses the plan (after PostgreSQL's five
// custom plans, when the generic one is no worse). Only statements that ask for it are named (they
// end with PREPARED), so the statements a connection keeps stay few: at most MAX_NAMED texts.
//
// Two things break a kept statement, and both are handled here: a migration run by a newer
// replica that changes what a statement answers ("cached plan must not change result type"), and
// a pooler that moves the session to another server connection ("prepared statement … does not
// exist"; PgBouncer in transaction mode before 1.21, or without max_prepared_statements). The
// statement fails once on that connection and is named anew, or — where the pooler keeps losing
// them — MAILRUN_DATABASE_PREPARED=false turns naming off.

const MARK = '/* mailrun:prepared */'
/** Ends a statement that is worth a named, kept plan: put last in the query (Kysely's modifyEnd). */
export const PREPARED: RawBuilder<unknown> = sql.raw(MARK)

/** Texts named at most: a connection never keeps more than this many of mailrun's statements (per generation). */
const MAX_NAMED = 64

/** SQLSTATEs after which a connection's kept statements are named anew. */
const STALE = new Set([
  '0A000', // cached plan must not change result type (feature_not_supported)
  '26000' // prepared statement does not exist (invalid_sql_statement_name)
])

type Query = (...args: unknown[]) => unknown

export interface NamedStatements {
  /** Makes this pool client run the marked statements as named ones. */
  install: (client: ClientBase) => void
}

export function namedStatements (): NamedStatements {
  let generation = 0
  let names = new Map<string, string>()
  const nameOf = (text: string): string | null => {
    const known = names.get(text)
    if (known !== undefined) return known
    if (names.size >= MAX_NAMED) return null
    const name = `mailrun_${generation}_${names.size}`
    names.set(text, name)
    return name
  }
  const stale = (error: unknown): void => {
    const code = (error as { code?: string } | null)?.code
    if (code === undefined || !STALE.has(code)) return
    if (code === '0A000' && !/cached plan must not change result type/.test((error as Error).message)) return
    // New names everywhere: every connection prepares its statements afresh from the next use.
    // The ones kept on the server under the old names go with their connections.
    generation++
    names = new Map()
  }
  return {
    install (client) {
      const query = client.query.bind(client) as Query
      ;(client as unknown as { query: Query }).query = (...args: unknown[]) => {
        const [text, values] = args
        if (typeof text !== 'string' || !text.endsWith(MARK) || typeof args[2] === 'function') return query(...args)
        const name = nameOf(text)
        if (name === null) return query(...args)
        const config: QueryConfig = { name, text, ...(Array.isArray(values) ? { values } : {}) }
        const result = query(config) as Promise<unknown>
        result.catch(stale)
        return result
      }
    }
  }
}
