import { Type } from '@sinclair/typebox'
import { Nullable, Timestamp, Uuid } from './common.js'

// Tenants and their API keys, as the admin API takes and answers them (and the console's forms).

export const Locale = Type.Union([Type.Literal('en'), Type.Literal('ru')], { description: 'Language of the replies sent to senders.' })

const tenantFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  maxMailboxes: Type.Integer({ minimum: 0, maximum: 100000, description: 'Licences: how many service mailboxes the tenant may have.' }),
  locale: Locale,
  contactEmail: Nullable(Type.String({ format: 'idn-email', description: 'Whom replies tell senders to ask for access.' })),
  // One schema with a type list, not a union with null: coercion would read 0 as null (the
  // instance default) instead of refusing it.
  retentionDays: Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 36500, description: "Days this tenant's message content (subjects, bodies, inputs, outputs, reply texts, attachment names) is kept; null: the instance's MAILRUN_RETENTION_DAYS (90 unless set)." }),
  timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone (Europe/Moscow): digests go out at 08:00 there and cover its days. Default UTC.' }),
  domains: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
    maxItems: 100,
    description: "The mail domains the tenant owns (set by the instance admin): its mailboxes' and console users' addresses must be in one of them, and a domain belongs to one tenant. Written in Unicode or punycode; answered in Unicode, lower case."
  })
}

export const TenantCreate = Type.Object({
  name: tenantFields.name,
  maxMailboxes: tenantFields.maxMailboxes,
  locale: Type.Optional({ ...Locale, default: 'en' }),
  contactEmail: Type.Optional(tenantFields.contactEmail),
  retentionDays: Type.Optional(tenantFields.retentionDays),
  timeZone: Type.Optional(tenantFields.timeZone),
  domains: Type.Optional({ ...tenantFields.domains, default: [] })
}, { additionalProperties: false, examples: [{ name: 'Acme Finance', maxMailboxes: 3, locale: 'en', contactEmail: 'rpa-team@acme.example', domains: ['acme.example'] }] })

export const TenantPatch = Type.Partial(Type.Object(tenantFields), {
  additionalProperties: false, minProperties: 1, examples: [{ maxMailboxes: 5 }, { domains: ['acme.example', 'acme-finance.example'] }]
})

const tenantExample = {
  id: '0b8e4b52-4a4c-4a38-9d2b-3f1c1f7e6a01',
  name: 'Acme Finance',
  maxMailboxes: 3,
  locale: 'en',
  contactEmail: 'rpa-team@acme.example',
  retentionDays: null,
  timeZone: 'Europe/Moscow',
  domains: ['acme.example'],
  mailboxCount: 1,
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z'
}

export const Tenant = Type.Object({
  id: Uuid,
  ...tenantFields,
  mailboxCount: Type.Integer({ description: 'Service mailboxes in use (of maxMailboxes).' }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [tenantExample] })

export const ApiKeyCreate = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200, description: 'What the key is for.' }))
}, { additionalProperties: false, examples: [{ name: 'RPA team laptop' }] })

export const apiKeyExample = {
  id: '5d0c7a3e-2f0e-4c55-8f43-0a3b9b1e2c77', name: 'RPA team laptop', prefix: 'mrt_Xq3v9sLk', createdAt: '2026-11-23T10:05:00.000Z', lastUsedAt: null, revokedAt: null
}

export const ApiKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp)
}, { examples: [apiKeyExample] })

export const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  key: Type.String({ description: 'The key itself. Shown only in this answer: store it now.' })
}, { examples: [{ ...apiKeyExample, key: 'mrt_Xq3v9sLkR2...' }] })
