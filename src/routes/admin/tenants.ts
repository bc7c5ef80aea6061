import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, IdParams, ListQuery, Page, Uuid } from '../../schemas/common.js'
import { ApiKey, apiKeyExample, ApiKeyCreate, CreatedApiKey, Tenant, TenantCreate, TenantPatch } from '../../schemas/tenants.js'

// Instance admin: tenants and their API keys. HTTP only; the rules live in resources/tenants.ts.

const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { tenants, apiKeys } = app.resources
  const tags = ['tenants']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireAdmin)

  app.post('/api/v1/tenants', {
    schema: { tags, security, summary: 'Create a tenant', body: TenantCreate, response: { 201: Tenant, ...errorResponses } }
  }, async (request, reply) => await reply.status(201).send(await tenants.create(request.body)))

  app.get('/api/v1/tenants', {
    schema: { tags, security, summary: 'List tenants, newest first', querystring: Type.Object(ListQuery), response: { 200: Page(Tenant), ...errorResponses } }
  }, async (request) => await tenants.list(request.query))

  app.get('/api/v1/tenants/:id', {
    schema: { tags, security, summary: 'Read a tenant', params: IdParams, response: { 200: Tenant, ...errorResponses } }
  }, async (request) => await tenants.get(request.params.id))

  app.patch('/api/v1/tenants/:id', {
    schema: { tags, security, summary: 'Change a tenant', params: IdParams, body: TenantPatch, response: { 200: Tenant, ...errorResponses } }
  }, async (request) => await tenants.update(request.params.id, request.body))

  app.delete('/api/v1/tenants/:id', {
    schema: { tags, security, summary: 'Delete a tenant and everything it owns', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await tenants.remove(request.params.id)
    return await reply.status(204).send(null)
  })

  app.post('/api/v1/tenants/:id/api-keys', {
    schema: { tags, security, summary: 'Create a tenant API key (shown once)', params: IdParams, body: ApiKeyCreate, response: { 201: CreatedApiKey, ...errorResponses } }
  }, async (request, reply) => {
    await tenants.assertExists(request.params.id)
    return await reply.status(201).send(await apiKeys.create(request.params.id, request.body?.name ?? ''))
  })

  app.get('/api/v1/tenants/:id/api-keys', {
    schema: { tags, security, summary: "List a tenant's API keys (never the keys themselves)", params: IdParams, response: { 200: Type.Object({ items: Type.Array(ApiKey) }, { examples: [{ items: [apiKeyExample] }] }), ...errorResponses } }
  }, async (request) => {
    await tenants.assertExists(request.params.id)
    return { items: await apiKeys.list(request.params.id) }
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
    await apiKeys.revoke(request.params.id, request.params.keyId)
    return await reply.status(204).send(null)
  })
}

export default tenantRoutes
