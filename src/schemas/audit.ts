import { Type } from '@sinclair/typebox'
import { ListQuery, Nullable, Timestamp, Uuid } from './common.js'

// The audit trail as the admin API answers it.

const auditExample = {
  id: '8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d',
  at: '2026-12-06T10:15:00.000Z',
  tenantId: '0b8e4b52-4a4c-4a38-9d2b-3f1c1f7e6a01',
  actor: { kind: 'console_user', id: '5d0c7a3e-2f0e-4c55-8f43-0a3b9b1e2c77', label: 'olga@acme.example' },
  via: 'console',
  action: 'update',
  resource: 'mailboxes',
  resourceId: '2f1e0d9c-8b7a-4654-a3b2-c1d0e9f8a7b6',
  fields: ['active', 'imap', 'smtp']
}

export const AuditEvent = Type.Object({
  id: Uuid,
  at: Timestamp,
  tenantId: Nullable(Uuid),
  actor: Type.Object({
    kind: Type.Union([Type.Literal('api_key'), Type.Literal('console_user'), Type.Literal('instance_admin')]),
    id: Nullable(Uuid),
    label: Type.String({ description: 'The API key (prefix and name) or console user (email), as it was at the time.' })
  }),
  via: Type.Union([Type.Literal('api'), Type.Literal('console')]),
  action: Type.String({ description: 'create, update, set, delete, or the named action (rotate-token, erase, revoke, import, …).' }),
  resource: Type.String({ description: 'What was changed, as named in the API or console path: tenants, mailboxes, senders, robots, orchestrator, users, api-keys, keys, …' }),
  resourceId: Nullable(Type.String()),
  fields: Type.Array(Type.String(), { description: 'The names of the fields the change set (those sent, and the defaults filled in for them) — never their values, so no secret is ever recorded.' })
}, { examples: [auditExample] })

export const AuditQuery = Type.Object({
  ...ListQuery,
  tenantId: Type.Optional(Type.String({ format: 'uuid', description: "Instance admin only: one tenant's changes." })),
  resource: Type.Optional(Type.String({ maxLength: 50 })),
  since: Type.Optional(Type.String({ format: 'date-time' }))
}, { additionalProperties: false })
