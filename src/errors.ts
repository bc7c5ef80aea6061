import createError from '@fastify/error'

// The catalogue of errors a caller can cause. Each maps to an HTTP status at the edge, and each
// message says what to do about it.
export const errors = {
  NotFound: createError('MAILRUN_ERR_NOT_FOUND', '%s', 404),
  Unauthorized: createError('MAILRUN_ERR_UNAUTHORIZED', '%s', 401),
  Forbidden: createError('MAILRUN_ERR_FORBIDDEN', '%s', 403),
  Conflict: createError('MAILRUN_ERR_CONFLICT', '%s', 409),
  BadRequest: createError('MAILRUN_ERR_BAD_REQUEST', '%s', 400),
  UnprocessableEntity: createError('MAILRUN_ERR_UNPROCESSABLE', '%s', 422),
  PayloadTooLarge: createError('MAILRUN_ERR_PAYLOAD_TOO_LARGE', '%s', 413),
  TooManyFailures: createError('MAILRUN_ERR_RATE_LIMITED', '%s', 429)
} as const

/** The 429 for an address past its failed-credential allowance, with when to come back. */
export function tooManyFailures (retryAfterS: number): Error {
  return Object.assign(new errors.TooManyFailures(`Too many failed attempts from this address: retry after ${retryAfterS} s (MAILRUN_AUTH_FAILURE_LIMIT)`), { retryAfterS })
}

/** A 400 naming one offending field, shaped like the validation errors. */
export function fieldError (field: string, message: string): Error {
  const error = new errors.BadRequest(`Invalid body: ${field} ${message}`)
  return Object.assign(error, { details: [{ field, message }] })
}
