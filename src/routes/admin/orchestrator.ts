import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses } from '../../schemas/common.js'
import { Connection, ConnectionCheck, ConnectionPut } from '../../schemas/orchestrator.js'

// A tenant's Orchestrator connection. HTTP only; the rules live in resources/orchestrator.ts.

const orchestratorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { orchestrator } = app.resources
  const tags = ['orchestrator']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.get('/api/v1/orchestrator', {
    schema: { tags, security, summary: "The tenant's Orchestrator connection (secrets write-only)", response: { 200: Connection, ...errorResponses } }
  }, async (request) => await orchestrator.get(tenantOf(request)))

  app.put('/api/v1/orchestrator', {
    schema: {
      tags,
      security,
      summary: 'Create or replace the Orchestrator connection; a secret left out is kept while authMode stays the same',
      body: ConnectionPut,
      response: { 200: Connection, ...errorResponses }
    }
  }, async (request) => await orchestrator.put(tenantOf(request), request.body))

  app.post('/api/v1/orchestrator/test', {
    schema: {
      tags,
      security,
      summary: 'Try the connection: authenticate, then find the default folder; answers what worked or exactly what failed',
      response: { 200: ConnectionCheck, ...errorResponses }
    }
  }, async (request) => await orchestrator.test(tenantOf(request)))
}

export default orchestratorRoutes
