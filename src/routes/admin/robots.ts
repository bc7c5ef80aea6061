import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Page } from '../../schemas/common.js'
import { Robot, RobotCreate, RobotPatch } from '../../schemas/robots.js'

// A tenant's robots. HTTP only; the rules live in resources/robots.ts.

const robotRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { robots } = app.resources
  const tags = ['robots']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/robots', {
    schema: { tags, security, summary: 'Register a robot senders can launch', body: RobotCreate, response: { 201: Robot, ...errorResponses } }
  }, async (request, reply) => await reply.status(201).send(await robots.create(tenantOf(request), request.body)))

  app.get('/api/v1/robots', {
    schema: { tags, security, summary: 'List robots', querystring: Type.Object(ListQuery), response: { 200: Page(Robot), ...errorResponses } }
  }, async (request) => await robots.list(tenantOf(request), request.query))

  app.get('/api/v1/robots/:id', {
    schema: { tags, security, summary: 'Read a robot', params: IdParams, response: { 200: Robot, ...errorResponses } }
  }, async (request) => await robots.get(tenantOf(request), request.params.id))

  app.patch('/api/v1/robots/:id', {
    schema: { tags, security, summary: 'Change a robot (senderIds replaces the allow-list)', params: IdParams, body: RobotPatch, response: { 200: Robot, ...errorResponses } }
  }, async (request) => await robots.update(tenantOf(request), request.params.id, request.body))

  app.delete('/api/v1/robots/:id', {
    schema: { tags, security, summary: 'Delete a robot', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await robots.remove(tenantOf(request), request.params.id)
    return await reply.status(204).send(null)
  })
}

export default robotRoutes
