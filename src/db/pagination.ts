import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely'
import { errors } from '../errors.js'

// Cursors name the last item of the page. Comparing (timestamp, id) against that row in SQL
// keeps the database's microsecond precision, which a timestamp sent through JSON would lose.

export function encodeCursor (id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url')
}

export function decodeCursor (cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new errors.BadRequest('cursor is not one this API gave out: pass the nextCursor of the previous page unchanged')
  }
  return id
}

/** `(column, id) < (that row's column, id)`: the rows after the cursor in newest-first order. */
export function after (table: string, column: string, cursor: string): Expression<SqlBool> {
  const id = decodeCursor(cursor)
  return sql<SqlBool>`(${sql.ref(`${table}.${column}`)}, ${sql.ref(`${table}.id`)}) < (select ${sql.ref(column)}, id from ${sql.table(table)} where id = ${id})`
}

/** Splits one extra fetched row off into the next cursor. */
export function page<T extends { id: string }> (rows: T[], limit: number): { items: T[], nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null }
  const items = rows.slice(0, limit)
  return { items, nextCursor: encodeCursor((items[items.length - 1] as T).id) }
}

/**
 * One page of a list, newest first by `column` then id, after the cursor: what every list
 * endpoint answers. The query brings its own filters; this adds order, limit and cursor.
 */
export async function newestFirst<DB, TB extends keyof DB, O extends { id: string }> (
  query: SelectQueryBuilder<DB, TB, O>,
  table: string,
  column: string,
  options: { limit?: number, cursor?: string }
): Promise<{ items: O[], nextCursor: string | null }> {
  const limit = options.limit ?? 50
  let paged = query.orderBy(sql.ref(`${table}.${column}`), 'desc').orderBy(sql.ref(`${table}.id`), 'desc').limit(limit + 1)
  if (options.cursor !== undefined) paged = paged.where(after(table, column, options.cursor))
  return page(await paged.execute(), limit)
}
