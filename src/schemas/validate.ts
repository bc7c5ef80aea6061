import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { Static, TSchema } from '@sinclair/typebox'
import { errors } from '../errors.js'
import { isMailboxAddress } from '../mail/address.js'
import { describeErrors } from './validation-errors.js'

// Checks a value against one of the API's schemas outside a route (the console's forms), with the
// same validator and formats Fastify uses for the routes, so both refuse the same things in the
// same words ("field message").

const ajv = new Ajv({ allErrors: true, strict: false, formats: { 'idn-email': isMailboxAddress } })
addFormats.default(ajv)
const compiled = new WeakMap<TSchema, ReturnType<typeof ajv.compile>>()

/** The value, typed, when it fits the schema; else a 400 naming each offending field. */
export function checked<T extends TSchema> (schema: T, value: unknown): Static<T> {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    validate = ajv.compile(schema)
    compiled.set(schema, validate)
  }
  if (validate(value)) return value as Static<T>
  const details = describeErrors(validate.errors ?? [])
  throw Object.assign(new errors.BadRequest(`Invalid body: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`), { details })
}
