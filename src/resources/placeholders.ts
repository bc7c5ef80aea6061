import { fieldError } from '../errors.js'

// The README's examples write "…" where a real value goes; pasted as is, a placeholder would be
// stored as a credential and fail much later with an error that points elsewhere.
const PLACEHOLDER = /^\s*(…|\.\.\.|<[^<>]*>)\s*$/

/** Refuses a body holding a docs placeholder anywhere, naming the field (imap.password, say). */
export function refusePlaceholders (body: unknown, prefix = ''): void {
  if (typeof body !== 'object' || body === null) return
  for (const [key, value] of Object.entries(body)) {
    const field = prefix === '' ? key : `${prefix}.${key}`
    if (typeof value === 'string' && PLACEHOLDER.test(value)) throw fieldError(field, `is a placeholder ("${value}"), not a value: paste the real one`)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) refusePlaceholders(value, field)
  }
}
