import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Page } from '../../schemas/common.js'
import { Sender, SenderCreate, SenderPatch } from '../../schemas/senders.js'

// A tenant's senders. HTTP only; the rules live in resources/senders.ts.

const senderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { senders } = app.resources
  const tags = ['senders']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/senders', {
    schema: { tags, security, summary: 'Allow a person to launch robots by email', body: SenderCreate, response: { 201: Sender, ...errorResponses } }
  }, async (request, reply) => await reply.status(201).send(await senders.create(tenantOf(request), request.body)))

  app.get('/api/v1/senders', {
    schema: { tags, security, summary: 'List senders', querystring: Type.Object({ ...ListQuery, search: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the name or the address, case-insensitive.' })) }, { additionalProperties: false }), response: { 200: Page(Sender), ...errorResponses } }
  }, async (request) => await senders.list(tenantOf(request), request.query))

  app.get('/api/v1/senders/:id', {
    schema: { tags, security, summary: 'Read a sender', params: IdParams, response: { 200: Sender, ...errorResponses } }
  }, async (request) => await senders.get(tenantOf(request), request.params.id))

  app.patch('/api/v1/senders/:id', {
    schema: { tags, security, summary: 'Change a sender', params: IdParams, body: SenderPatch, response: { 200: Sender, ...errorResponses } }
  }, async (request) => await senders.update(tenantOf(request), request.params.id, request.body))

  app.delete('/api/v1/senders/:id', {
    schema: { tags, security, summary: 'Remove a sender (and from every robot allow-list)', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await senders.remove(tenantOf(request), request.params.id)
    return await reply.status(204).send(null)
  })
}

export default senderRoutes
