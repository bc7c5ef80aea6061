import { Ajv, type ErrorObject } from 'ajv'
import addFormats from 'ajv-formats'
import type { Static, TSchema } from '@sinclair/typebox'
import { errors } from '../errors.js'
import { isMailboxAddress } from '../mail/address.js'

// Checks a value against one of the API's schemas outside a route (the console's forms), with the
// same validator and formats Fastify uses for the routes, so both refuse the same things in the
// same words ("field message").

const ajv = new Ajv({ allErrors: true, strict: false, formats: { 'idn-email': isMailboxAddress } })
addFormats.default(ajv)
const compiled = new WeakMap<TSchema, ReturnType<typeof ajv.compile>>()

function describe (error: ErrorObject): { field: string, message: string } {
  const base = error.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const params = error.params as { missingProperty?: string, additionalProperty?: string }
  if (params.missingProperty !== undefined) return { field: [base, params.missingProperty].filter(Boolean).join('.'), message: 'is required' }
  if (params.additionalProperty !== undefined) return { field: [base, params.additionalProperty].filter(Boolean).join('.'), message: 'is not a known field; remove it' }
  return { field: base || 'body', message: error.message ?? 'is invalid' }
}

/** The value, typed, when it fits the schema; else a 400 naming each offending field. */
export function checked<T extends TSchema> (schema: T, value: unknown): Static<T> {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    validate = ajv.compile(schema)
    compiled.set(schema, validate)
  }
  if (validate(value)) return value as Static<T>
  const details = (validate.errors ?? []).map(describe)
  throw Object.assign(new errors.BadRequest(`Invalid body: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`), { details })
}
