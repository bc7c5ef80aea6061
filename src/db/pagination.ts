import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely'
import type { SecretBox } from '../crypto/secret-box.js'
import { errors } from '../errors.js'

// Cursors name the last item of the page. Comparing (timestamp, id) against that row in SQL
// keeps the database's microsecond precision, which a timestamp sent through JSON would lose.
// A cursor is sealed (AES-GCM) with the list and the tenant it was given for: another tenant's
// row id, or a cursor from another list, is refused, so a cursor can never probe what exists.

/** Who a list is for: the box that seals cursors, and the tenant (null: the instance admin's lists). */
export interface CursorScope {
  box: SecretBox
  tenantId: string | null
}

const invalidCursor = (): Error => new errors.BadRequest('invalid cursor: pass the nextCursor of the previous page of this same list unchanged')

export function encodeCursor (scope: CursorScope, list: string, id: string): string {
  return Buffer.from(scope.box.seal(JSON.stringify({ l: list, t: scope.tenantId, i: id })), 'utf8').toString('base64url')
}

export function decodeCursor (scope: CursorScope, list: string, cursor: string): string {
  let parsed: { l?: unknown, t?: unknown, i?: unknown }
  try {
    parsed = JSON.parse(scope.box.open(Buffer.from(cursor, 'base64url').toString('utf8'))) as typeof parsed
  } catch {
    throw invalidCursor()
  }
  if (parsed.l !== list || parsed.t !== scope.tenantId || typeof parsed.i !== 'string') throw invalidCursor()
  return parsed.i
}

/** `(column, id) < (that row's column, id)`: the rows after the cursor in newest-first order. */
export function after (table: string, column: string, id: string): Expression<SqlBool> {
  return sql<SqlBool>`(${sql.ref(`${table}.${column}`)}, ${sql.ref(`${table}.id`)}) < (select ${sql.ref(column)}, id from ${sql.table(table)} where id = ${id})`
}

/** Splits one extra fetched row off into the next cursor. */
export function page<T extends { id: string }> (rows: T[], limit: number, cursor: (id: string) => string): { items: T[], nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null }
  const items = rows.slice(0, limit)
  return { items, nextCursor: cursor((items[items.length - 1] as T).id) }
}

/**
 * One page of a list, newest first by `column` then id, after the cursor: what every list
 * endpoint answers. The query brings its own filters; this adds order, limit and cursor.
 */
export async function newestFirst<DB, TB extends keyof DB, O extends { id: string }> (
  query: SelectQueryBuilder<DB, TB, O>,
  table: string,
  column: string,
  options: { limit?: number, cursor?: string },
  scope: CursorScope
): Promise<{ items: O[], nextCursor: string | null }> {
  const limit = options.limit ?? 50
  let paged = query.orderBy(sql.ref(`${table}.${column}`), 'desc').orderBy(sql.ref(`${table}.id`), 'desc').limit(limit + 1)
  if (options.cursor !== undefined) paged = paged.where(after(table, column, decodeCursor(scope, table, options.cursor)))
  return page(await paged.execute(), limit, (id) => encodeCursor(scope, table, id))
}
