import { Type, type TSchema } from '@sinclair/typebox'

export const Uuid = Type.String({ format: 'uuid' })
export const Timestamp = Type.String({ format: 'date-time' })

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** What the API says about a write-only secret: whether one is stored, never its value. */
export const SecretMarker = Type.Object({ set: Type.Boolean() }, { description: 'Write-only secret: only whether it is set is ever returned.' })
export const marker = (value: string | null | undefined): { set: boolean } => ({ set: value !== null && value !== undefined })

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
  requestId: Type.Optional(Type.String())
}, { $id: 'ErrorBody', description: 'Every error has this shape.' })

const errorRef = Type.Ref('ErrorBody')

/** The error answers an authenticated admin operation can give, for OpenAPI. */
export const errorResponses = {
  400: errorRef,
  401: errorRef,
  403: errorRef,
  404: errorRef,
  409: errorRef,
  422: errorRef,
  429: errorRef
}

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Items per page.' })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, description: 'The nextCursor of the previous page of this same list, unchanged. Opaque and bound to the caller and the list: anything else answers 400 invalid cursor.' }))
}

export const Page = <T extends TSchema>(item: T) => Type.Object({
  items: Type.Array(item),
  nextCursor: Nullable(Type.String({ description: 'Pass as cursor to get the next page; null on the last page.' }))
}, Array.isArray(item.examples) ? { examples: [{ items: item.examples, nextCursor: null }] } : {})

export const Word = Type.String({ pattern: '^[\\p{L}\\p{N}_.]+$', maxLength: 100, description: 'Letters of any alphabet, digits, _ and . — no spaces.' })

/** Something wrong with a message, worded for the sender; its kind and values let a program say it in any language. */
export const ProblemSchema = Type.Object({
  line: Type.Optional(Type.Integer({ description: 'The line of the email, from 1.' })),
  text: Type.Optional(Type.String({ description: 'What the sender wrote there (a line, a subject, a file name).' })),
  kind: Type.Optional(Type.String({ description: 'Which problem: no_such_input, bad_value, no_such_function, bad_cell, … (the reply renders it in the tenant\'s language).' })),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The values the problem names (names, row and column, what was written).' })),
  message: Type.String({ description: 'The problem in English.' })
})
