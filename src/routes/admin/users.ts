import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { fieldError } from '../../errors.js'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Page } from '../../schemas/common.js'
import { CreatedUser, User, UserCreate, UserPatch } from '../../schemas/users.js'

// A tenant's console users. HTTP only; the rules live in resources/users.ts. Creating one is also
// the instance admin's (a new tenant's first user, with tenantId); the rest is the tenant's own.

const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { users, tenants } = app.resources
  const tags = ['users']
  const security = [{ bearer: [] }]
  const tenantOnly = { onRequest: app.requireTenant }

  app.post('/api/v1/users', {
    onRequest: app.requireKey,
    schema: { tags, security, summary: 'Invite a person to the web console (without a password: answers a one-time set-password link)', body: UserCreate, response: { 201: CreatedUser, ...errorResponses } }
  }, async (request, reply) => {
    const { tenantId, ...body } = request.body
    if (request.principal?.scope === 'admin') {
      if (tenantId === undefined) throw fieldError('tenantId', 'is required with the instance-admin key: the tenant the user belongs to')
      await tenants.assertExists(tenantId)
      return await reply.status(201).send(await users.create(tenantId, body, { anyDomain: true }))
    }
    if (tenantId !== undefined && tenantId !== tenantOf(request)) throw fieldError('tenantId', 'is for the instance-admin key: a tenant key creates users in its own tenant')
    return await reply.status(201).send(await users.create(tenantOf(request), body))
  })

  app.get('/api/v1/users', {
    ...tenantOnly,
    schema: { tags, security, summary: 'List console users', querystring: Type.Object(ListQuery), response: { 200: Page(User), ...errorResponses } }
  }, async (request) => await users.list(tenantOf(request), request.query))

  app.get('/api/v1/users/:id', {
    ...tenantOnly,
    schema: { tags, security, summary: 'Read a console user', params: IdParams, response: { 200: User, ...errorResponses } }
  }, async (request) => await users.get(tenantOf(request), request.params.id))

  app.patch('/api/v1/users/:id', {
    ...tenantOnly,
    schema: { tags, security, summary: 'Change a console user (disabling or a new password ends their sessions)', params: IdParams, body: UserPatch, response: { 200: User, ...errorResponses } }
  }, async (request) => await users.update(tenantOf(request), request.params.id, request.body))

  app.delete('/api/v1/users/:id', {
    ...tenantOnly,
    schema: { tags, security, summary: 'Remove a console user', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await users.remove(tenantOf(request), request.params.id)
    return await reply.status(204).send(null)
  })
}

export default userRoutes
