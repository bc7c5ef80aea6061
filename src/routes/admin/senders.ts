import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Page } from '../../schemas/common.js'
import { Erasure, Sender, SenderCreate, SenderPatch } from '../../schemas/senders.js'

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

  app.post('/api/v1/senders/:id/erase', {
    schema: {
      tags,
      security,
      summary: 'Erase a sender and every trace of their address',
      description: "Removes the sender and, in this tenant's messages, launches and replies, their address and everything they wrote or were answered (subjects, texts, inputs, outputs, reply texts, attachment names, history details). The rows stay, anonymous, so counts do not change. 409 while some of their messages are still being handled (a job still running).",
      params: IdParams,
      response: { 200: Erasure, ...errorResponses }
    }
  }, async (request) => await senders.erase(tenantOf(request), request.params.id))
}

export default senderRoutes
