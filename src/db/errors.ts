// pg and PGlite both report SQLSTATE in `code` and the constraint's name in `constraint`.
interface DatabaseError { code?: string, constraint?: string }

export function isUniqueViolation (error: unknown, constraint?: string): boolean {
  const e = error as DatabaseError
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint)
}

export function isForeignKeyViolation (error: unknown): boolean {
  return (error as DatabaseError)?.code === '23503'
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300'])

/**
 * The database is away (refused, reset, shutting down, out of connections), as opposed to a
 * query that is wrong: the caller should answer 503 and let the client retry.
 */
export function isDatabaseUnavailable (error: unknown): boolean {
  for (let e = error as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e !== undefined && e !== null && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (UNREACHABLE_CODES.has(code) || code.startsWith('08')) return true
    if (typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database is unreachable/i.test(e.message)) return true
  }
  return false
}
