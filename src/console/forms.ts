import type { TSchema } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { checked } from '../schemas/validate.js'
import { localeOf } from './context.js'
import { refusalText } from './error-text.js'

// Forms arrive as flat strings; the resource functions take what the JSON API takes. These turn one
// into the other, and a refusal into the words the form shows next to itself.

/** The body of a form post as strings (repeated fields keep their last value), without the CSRF token. */
export function readForm (body: unknown): Record<string, string | undefined> {
  const form: Record<string, string | undefined> = {}
  if (typeof body !== 'object' || body === null) return form
  for (const [key, value] of Object.entries(body)) {
    if (key === '_csrf') continue
    form[key] = Array.isArray(value) ? String(value.at(-1)) : String(value)
  }
  return form
}

/** Validates a value against a resource's schema, as the API does; a 400 naming each offending field. */
export function checkShape (schema: TSchema, value: unknown): void {
  checked(schema, value)
}

/** A refusal the form can show (400, 409, 422), in the user's language, or the error itself for the error page. */
export function formError (error: unknown, request: FastifyRequest): { status: number, message: string } {
  const status = (error as { statusCode?: number }).statusCode
  if (status === 400 || status === 409 || status === 422) return { status, message: refusalText(error as Error & { details?: Array<{ field: string, message: string }> }, localeOf(request)) }
  throw error
}
