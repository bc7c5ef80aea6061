import type { ErrorObject } from 'ajv'

// Validation errors as the API and the console show them: one line per field, saying what to write.
// A field that must be one of several words fails once per word (Ajv's anyOf of consts, as TypeBox
// writes unions of literals): those become one "must be one of: …", listing the allowed values.

export interface FieldError { field: string, message: string }

const fieldOf = (error: Pick<ErrorObject, 'instancePath'>, fallback: string): string => error.instancePath.replace(/^\//, '').replace(/\//g, '.') || fallback

export function describeErrors (errors: Array<Pick<ErrorObject, 'instancePath' | 'keyword' | 'params' | 'message'>>, fallback = 'body'): FieldError[] {
  const allowed = new Map<string, unknown[]>()
  for (const e of errors) {
    if (e.keyword === 'const') allowed.set(e.instancePath, [...(allowed.get(e.instancePath) ?? []), (e.params as { allowedValue?: unknown }).allowedValue])
    if (e.keyword === 'enum') allowed.set(e.instancePath, [...(allowed.get(e.instancePath) ?? []), ...((e.params as { allowedValues?: unknown[] }).allowedValues ?? [])])
  }
  const out: FieldError[] = []
  const said = new Set<string>()
  for (const e of errors) {
    const base = fieldOf(e, '')
    const params = e.params as { missingProperty?: string, additionalProperty?: string }
    let detail: FieldError
    if (params.missingProperty !== undefined) detail = { field: [base, params.missingProperty].filter(Boolean).join('.'), message: 'is required' }
    else if (params.additionalProperty !== undefined) detail = { field: [base, params.additionalProperty].filter(Boolean).join('.'), message: 'is not a known field; remove it' }
    else if (allowed.has(e.instancePath) && (e.keyword === 'const' || e.keyword === 'enum' || e.keyword === 'anyOf')) {
      detail = { field: base || fallback, message: `must be one of: ${[...new Set(allowed.get(e.instancePath))].map(String).join(', ')}` }
    } else detail = { field: base || fallback, message: e.message ?? 'is invalid' }
    const key = `${detail.field}\u0000${detail.message}`
    if (!said.has(key)) { said.add(key); out.push(detail) }
  }
  return out
}
