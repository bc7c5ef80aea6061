import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, Page } from '../../schemas/common.js'
import { Connection, ConnectionCreate, ConnectionPatch, ConnectionTestResult } from '../../schemas/connections.js'

// Where robots are launched. HTTP only; the rules live in resources/connections.ts.

const connectionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { connections } = app.resources
  const tags = ['connections']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/connections', {
    schema: { tags, security, summary: 'Add an HTTP target (its signing secret is answered once when mailrun makes it)', body: ConnectionCreate, response: { 201: Connection, ...errorResponses } }
  }, async (request, reply) => await reply.status(201).send(await connections.create(tenantOf(request), request.body)))

  app.get('/api/v1/connections', {
    schema: { tags, security, summary: 'List the connections robots launch through: the UiPath Orchestrator connection first, then HTTP targets', response: { 200: Page(Connection), ...errorResponses } }
  }, async (request) => await connections.list(tenantOf(request)))

  app.get('/api/v1/connections/:id', {
    schema: { tags, security, summary: 'Read a connection', params: IdParams, response: { 200: Connection, ...errorResponses } }
  }, async (request) => await connections.get(tenantOf(request), request.params.id))

  app.patch('/api/v1/connections/:id', {
    schema: { tags, security, summary: 'Change an HTTP target (rotateSecret: a new signing secret, answered once)', params: IdParams, body: ConnectionPatch, response: { 200: Connection, ...errorResponses } }
  }, async (request) => await connections.update(tenantOf(request), request.params.id, request.body))

  app.delete('/api/v1/connections/:id', {
    schema: { tags, security, summary: 'Delete an HTTP target no robot launches through', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await connections.remove(tenantOf(request), request.params.id)
    return await reply.status(204).send(null)
  })

  app.post('/api/v1/connections/:id/test', {
    schema: { tags, security, summary: 'Check an HTTP target step by step (the address, then whether it answers a GET); no run is started', params: IdParams, response: { 200: ConnectionTestResult, ...errorResponses } }
  }, async (request) => await connections.test(tenantOf(request), request.params.id))
}

export default connectionRoutes
