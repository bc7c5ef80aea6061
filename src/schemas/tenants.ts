import { Type } from '@sinclair/typebox'
import { Nullable, Timestamp, Uuid } from './common.js'

// Tenants and their API keys, as the admin API takes and answers them (and the console's forms).

export const Locale = Type.Union([Type.Literal('en'), Type.Literal('ru')], { description: 'Language of the replies sent to senders.' })

const tenantFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  maxMailboxes: Type.Integer({ minimum: 0, maximum: 100000, description: 'Licences: how many service mailboxes the tenant may have.' }),
  locale: Locale,
  contactEmail: Nullable(Type.String({ format: 'idn-email', description: 'Whom replies tell senders to ask for access.' }))
}

export const TenantCreate = Type.Object({
  name: tenantFields.name,
  maxMailboxes: tenantFields.maxMailboxes,
  locale: Type.Optional({ ...Locale, default: 'en' }),
  contactEmail: Type.Optional(tenantFields.contactEmail)
}, { additionalProperties: false, examples: [{ name: 'Acme Finance', maxMailboxes: 3, locale: 'en', contactEmail: 'rpa-team@acme.example' }] })

export const TenantPatch = Type.Partial(Type.Object(tenantFields), {
  additionalProperties: false, minProperties: 1, examples: [{ maxMailboxes: 5 }]
})

const tenantExample = {
  id: '0b8e4b52-4a4c-4a38-9d2b-3f1c1f7e6a01',
  name: 'Acme Finance',
  maxMailboxes: 3,
  locale: 'en',
  contactEmail: 'rpa-team@acme.example',
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
