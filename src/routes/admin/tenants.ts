import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Selectable } from 'kysely'
import { generateKey } from '../../auth/api-keys.js'
import { isUniqueViolation } from '../../db/errors.js'
import { newestFirst } from '../../db/pagination.js'
import type { ApiKeysTable, TenantsTable } from '../../db/schema.js'
import { errors } from '../../errors.js'
import { storedAddress } from '../../mail/address.js'
import { errorResponses, IdParams, ListQuery, Nullable, Page, Timestamp, Uuid } from '../../schemas/common.js'

const Locale = Type.Union([Type.Literal('en'), Type.Literal('ru')], { description: 'Language of the replies sent to senders.' })

const tenantFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  maxMailboxes: Type.Integer({ minimum: 0, maximum: 100000, description: 'Licences: how many service mailboxes the tenant may have.' }),
  locale: Locale,
  contactEmail: Nullable(Type.String({ format: 'idn-email', description: 'Whom replies tell senders to ask for access.' }))
}

const TenantCreate = Type.Object({
  name: tenantFields.name,
  maxMailboxes: tenantFields.maxMailboxes,
  locale: Type.Optional({ ...Locale, default: 'en' }),
  contactEmail: Type.Optional(tenantFields.contactEmail)
}, { additionalProperties: false, examples: [{ name: 'Acme Finance', maxMailboxes: 3, locale: 'en', contactEmail: 'rpa-team@acme.example' }] })

const TenantPatch = Type.Partial(Type.Object(tenantFields), {
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

const Tenant = Type.Object({
  id: Uuid,
  ...tenantFields,
  mailboxCount: Type.Integer({ description: 'Service mailboxes in use (of maxMailboxes).' }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [tenantExample] })

const ApiKeyCreate = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200, description: 'What the key is for.' }))
}, { additionalProperties: false, examples: [{ name: 'RPA team laptop' }] })

const apiKeyExample = {
  id: '5d0c7a3e-2f0e-4c55-8f43-0a3b9b1e2c77', name: 'RPA team laptop', prefix: 'mrt_Xq3v9sLk', createdAt: '2026-11-23T10:05:00.000Z', lastUsedAt: null, revokedAt: null
}

const ApiKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp)
}, { examples: [apiKeyExample] })

const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  key: Type.String({ description: 'The key itself. Shown only in this answer: store it now.' })
}, { examples: [{ ...apiKeyExample, key: 'mrt_Xq3v9sLkR2...' }] })

type TenantRow = Selectable<TenantsTable> & { mailbox_count: number }

function present (row: TenantRow): Static<typeof Tenant> {
  return {
    id: row.id,
    name: row.name,
    maxMailboxes: row.max_mailboxes,
    locale: row.locale,
    contactEmail: row.contact_email,
    mailboxCount: Number(row.mailbox_count),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

function presentKey (row: Selectable<ApiKeysTable>): Static<typeof ApiKey> {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null
  }
}

const nameTaken = (name: string) => new errors.Conflict(`a tenant named "${name}" already exists: choose another name`)
const tenantNotFound = (id: string) => new errors.NotFound(`no tenant ${id}`)

const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.db
  const tags = ['tenants']
  const security = [{ bearer: [] }]

  const selectTenants = () => db.selectFrom('tenants').selectAll('tenants').select((eb) =>
    eb.selectFrom('mailboxes').whereRef('mailboxes.tenant_id', '=', 'tenants.id').select((e) => e.fn.countAll<number>().as('n')).as('mailbox_count'))

  async function findTenant (id: string): Promise<TenantRow> {
    const row = await selectTenants().where('tenants.id', '=', id).executeTakeFirst()
    if (row === undefined) throw tenantNotFound(id)
    return row as TenantRow
  }

  app.addHook('onRequest', app.requireAdmin)

  app.post('/api/v1/tenants', {
    schema: { tags, security, summary: 'Create a tenant', body: TenantCreate, response: { 201: Tenant, ...errorResponses } }
  }, async (request, reply) => {
    const body = request.body
    try {
      const row = await db.insertInto('tenants').values({
        name: body.name, max_mailboxes: body.maxMailboxes, locale: body.locale ?? 'en', contact_email: body.contactEmail === undefined || body.contactEmail === null ? null : storedAddress(body.contactEmail)
      }).returning('id').executeTakeFirstOrThrow()
      return await reply.status(201).send(present(await findTenant(row.id)))
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(body.name)
      throw error
    }
  })

  app.get('/api/v1/tenants', {
    schema: { tags, security, summary: 'List tenants, newest first', querystring: Type.Object(ListQuery), response: { 200: Page(Tenant), ...errorResponses } }
  }, async (request) => {
    const { items, nextCursor } = await newestFirst(selectTenants(), 'tenants', 'created_at', request.query, { box: app.secrets, tenantId: null })
    return { items: (items as TenantRow[]).map(present), nextCursor }
  })

  app.get('/api/v1/tenants/:id', {
    schema: { tags, security, summary: 'Read a tenant', params: IdParams, response: { 200: Tenant, ...errorResponses } }
  }, async (request) => present(await findTenant(request.params.id)))

  app.patch('/api/v1/tenants/:id', {
    schema: { tags, security, summary: 'Change a tenant', params: IdParams, body: TenantPatch, response: { 200: Tenant, ...errorResponses } }
  }, async (request) => {
    const { id } = request.params
    const body = request.body
    const current = await findTenant(id)
    if (body.maxMailboxes !== undefined && body.maxMailboxes < Number(current.mailbox_count)) {
      throw new errors.Conflict(`the tenant has ${current.mailbox_count} mailboxes: delete some before lowering maxMailboxes to ${body.maxMailboxes}`)
    }
    try {
      await db.updateTable('tenants').set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.maxMailboxes !== undefined ? { max_mailboxes: body.maxMailboxes } : {}),
        ...(body.locale !== undefined ? { locale: body.locale } : {}),
        ...(body.contactEmail !== undefined ? { contact_email: body.contactEmail === null ? null : storedAddress(body.contactEmail) } : {}),
        updated_at: new Date()
      }).where('id', '=', id).execute()
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(body.name ?? '')
      throw error
    }
    return present(await findTenant(id))
  })

  app.delete('/api/v1/tenants/:id', {
    schema: {
      tags,
      security,
      summary: 'Delete a tenant and everything it owns',
      params: IdParams,
      response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses }
    }
  }, async (request, reply) => {
    const deleted = await db.deleteFrom('tenants').where('id', '=', request.params.id).executeTakeFirst()
    if (deleted.numDeletedRows === 0n) throw tenantNotFound(request.params.id)
    return await reply.status(204).send(null)
  })

  app.post('/api/v1/tenants/:id/api-keys', {
    schema: { tags, security, summary: 'Create a tenant API key (shown once)', params: IdParams, body: ApiKeyCreate, response: { 201: CreatedApiKey, ...errorResponses } }
  }, async (request, reply) => {
    await findTenant(request.params.id)
    const { key, hash, prefix } = generateKey('tenant')
    const row = await db.insertInto('api_keys').values({
      scope: 'tenant', tenant_id: request.params.id, name: request.body?.name ?? '', prefix, key_hash: hash
    }).returningAll().executeTakeFirstOrThrow()
    return await reply.status(201).send({ ...presentKey(row), key })
  })

  app.get('/api/v1/tenants/:id/api-keys', {
    schema: { tags, security, summary: "List a tenant's API keys (never the keys themselves)", params: IdParams, response: { 200: Type.Object({ items: Type.Array(ApiKey) }, { examples: [{ items: [apiKeyExample] }] }), ...errorResponses } }
  }, async (request) => {
    await findTenant(request.params.id)
    const rows = await db.selectFrom('api_keys').selectAll().where('tenant_id', '=', request.params.id).orderBy('created_at', 'desc').execute()
    return { items: rows.map(presentKey) }
  })

  app.delete('/api/v1/tenants/:id/api-keys/:keyId', {
    schema: {
      tags,
      security,
      summary: 'Revoke a tenant API key',
      params: Type.Object({ id: Uuid, keyId: Uuid }, { additionalProperties: false }),
      response: { 204: Type.Null({ description: 'Revoked.' }), ...errorResponses }
    }
  }, async (request, reply) => {
    const revoked = await db.updateTable('api_keys').set({ revoked_at: new Date() })
      .where('id', '=', request.params.keyId).where('tenant_id', '=', request.params.id).where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (revoked.numUpdatedRows === 0n) throw new errors.NotFound(`no active API key ${request.params.keyId} in tenant ${request.params.id}`)
    return await reply.status(204).send(null)
  })
}

export default tenantRoutes
