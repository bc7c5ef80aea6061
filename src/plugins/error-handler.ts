import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '../db/errors.js'
import { describeErrors, type FieldError } from '../schemas/validation-errors.js'

export interface ErrorBody {
  statusCode: number
  code: string
  message: string
  details?: unknown
  requestId?: string
}

function validationDetails (error: FastifyError): FieldError[] {
  return describeErrors((error.validation ?? []) as Parameters<typeof describeErrors>[0], error.validationContext ?? 'body')
}

// One shape for every error. 5xx bodies never carry internals: the request id lets an
// operator find the logged cause.
export default fp(async function errorHandler (app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const details = validationDetails(error)
      const body: ErrorBody = {
        statusCode: 400,
        code: 'MAILRUN_ERR_VALIDATION',
        message: `Invalid ${error.validationContext ?? 'request'}: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
        details
      }
      return reply.status(400).send(body)
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable')
      const body: ErrorBody = { statusCode: 503, code: 'MAILRUN_ERR_DATABASE_UNAVAILABLE', message: 'The database is unavailable; retry in a few seconds.', requestId: request.id }
      return reply.status(503).header('retry-after', '5').send(body)
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      const body: ErrorBody = {
        statusCode: status,
        code: status === 503 && error.code?.startsWith('MAILRUN_') ? error.code : 'MAILRUN_ERR_INTERNAL',
        message: status === 503 && error.code?.startsWith('MAILRUN_') ? error.message : 'Internal error. Quote the request id to the operator.',
        requestId: request.id
      }
      return reply.status(status).send(body)
    }
    const retryAfterS = (error as { retryAfterS?: number }).retryAfterS
    if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS))
    const body: ErrorBody = { statusCode: status, code: error.code ?? 'MAILRUN_ERR_BAD_REQUEST', message: error.message }
    const details = (error as { details?: unknown }).details
    if (details !== undefined) body.details = details
    return reply.status(status).send(body)
  })

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = { statusCode: 404, code: 'MAILRUN_ERR_NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0] ?? ''}` }
    return reply.status(404).send(body)
  })
}, { name: 'error-handler' })
