import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Selectable } from 'kysely'
import { isUniqueViolation } from '../../db/errors.js'
import { newestFirst } from '../../db/pagination.js'
import type { SendersTable } from '../../db/schema.js'
import { errors } from '../../errors.js'
import { tenantOf } from '../../plugins/auth.js'
import { storedAddress } from '../../mail/address.js'
import { errorResponses, IdParams, ListQuery, Page, Timestamp, Uuid } from '../../schemas/common.js'

const senderFields = {
  fullName: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'idn-email', maxLength: 254, description: 'Unique per tenant, compared case-insensitively.' }),
  active: Type.Boolean({ description: 'An inactive sender cannot launch anything.' })
}

const SenderCreate = Type.Object({
  fullName: senderFields.fullName,
  email: senderFields.email,
  active: Type.Optional({ ...senderFields.active, default: true })
}, { additionalProperties: false, examples: [{ fullName: 'Anna Petrova', email: 'anna.petrova@acme.example' }] })

const SenderPatch = Type.Partial(Type.Object(senderFields), { additionalProperties: false, minProperties: 1, examples: [{ active: false }] })

const Sender = Type.Object({ id: Uuid, ...senderFields, createdAt: Timestamp, updatedAt: Timestamp }, {
  examples: [{ id: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d', fullName: 'Anna Petrova', email: 'anna.petrova@acme.example', active: true, createdAt: '2026-11-23T10:00:00.000Z', updatedAt: '2026-11-23T10:00:00.000Z' }]
})

function present (row: Selectable<SendersTable>): Static<typeof Sender> {
  return { id: row.id, fullName: row.full_name, email: row.email, active: row.active, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() }
}

const senderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.db
  const tags = ['senders']
  const security = [{ bearer: [] }]
  const emailTaken = (email: string) => new errors.Conflict(`a sender with the email ${email} already exists in this tenant`)
  const notFound = (id: string) => new errors.NotFound(`no sender ${id}`)

  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/senders', {
    schema: { tags, security, summary: 'Allow a person to launch robots by email', body: SenderCreate, response: { 201: Sender, ...errorResponses } }
  }, async (request, reply) => {
    try {
      const row = await db.insertInto('senders').values({
        tenant_id: tenantOf(request), full_name: request.body.fullName, email: storedAddress(request.body.email), active: request.body.active ?? true
      }).returningAll().executeTakeFirstOrThrow()
      return await reply.status(201).send(present(row))
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken(request.body.email)
      throw error
    }
  })

  app.get('/api/v1/senders', {
    schema: { tags, security, summary: 'List senders', querystring: Type.Object(ListQuery), response: { 200: Page(Sender), ...errorResponses } }
  }, async (request) => {
    const { items, nextCursor } = await newestFirst(db.selectFrom('senders').selectAll().where('tenant_id', '=', tenantOf(request)), 'senders', 'created_at', request.query, { box: app.secrets, tenantId: tenantOf(request) })
    return { items: items.map(present), nextCursor }
  })

  app.get('/api/v1/senders/:id', {
    schema: { tags, security, summary: 'Read a sender', params: IdParams, response: { 200: Sender, ...errorResponses } }
  }, async (request) => {
    const row = await db.selectFrom('senders').selectAll().where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (row === undefined) throw notFound(request.params.id)
    return present(row)
  })

  app.patch('/api/v1/senders/:id', {
    schema: { tags, security, summary: 'Change a sender', params: IdParams, body: SenderPatch, response: { 200: Sender, ...errorResponses } }
  }, async (request) => {
    const body = request.body
    try {
      const row = await db.updateTable('senders').set({
        ...(body.fullName !== undefined ? { full_name: body.fullName } : {}),
        ...(body.email !== undefined ? { email: storedAddress(body.email) } : {}),
        ...(body.active !== undefined ? { active: body.active } : {}),
        updated_at: new Date()
      }).where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).returningAll().executeTakeFirst()
      if (row === undefined) throw notFound(request.params.id)
      return present(row)
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken(body.email ?? '')
      throw error
    }
  })

  app.delete('/api/v1/senders/:id', {
    schema: { tags, security, summary: 'Remove a sender (and from every robot allow-list)', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    const deleted = await db.deleteFrom('senders').where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (deleted.numDeletedRows === 0n) throw notFound(request.params.id)
    return await reply.status(204).send(null)
  })
}

export default senderRoutes
