// pg and PGlite both report SQLSTATE in `code` and the constraint's name in `constraint`.
interface DatabaseError { code?: string, constraint?: string }

export function isUniqueViolation (error: unknown, constraint?: string): boolean {
  const e = error as DatabaseError
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint)
}

export function isForeignKeyViolation (error: unknown): boolean {
  return (error as DatabaseError)?.code === '23503'
}
