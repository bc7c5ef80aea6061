import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Page } from '../../schemas/common.js'
import { Channel, ChannelCreate, ChannelPatch, ChannelTestResult, Delivery } from '../../schemas/notification-channels.js'

// Where a tenant's team is told what happened. HTTP only; the rules live in
// resources/notification-channels.ts, the sending in alerts/.

const channelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { notificationChannels: channels } = app.resources
  const tags = ['notification-channels']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/notification-channels', {
    schema: { tags, security, summary: 'Add a channel the team is told through (a webhook\'s signing secret is answered once)', body: ChannelCreate, response: { 201: Channel, ...errorResponses } }
  }, async (request, reply) => await reply.status(201).send(await channels.create(tenantOf(request), request.body)))

  app.get('/api/v1/notification-channels', {
    schema: { tags, security, summary: 'List notification channels', querystring: Type.Object(ListQuery), response: { 200: Page(Channel), ...errorResponses } }
  }, async (request) => await channels.list(tenantOf(request), request.query))

  app.get('/api/v1/notification-channels/:id', {
    schema: { tags, security, summary: 'Read a notification channel', params: IdParams, response: { 200: Channel, ...errorResponses } }
  }, async (request) => await channels.get(tenantOf(request), request.params.id))

  app.patch('/api/v1/notification-channels/:id', {
    schema: { tags, security, summary: 'Change a notification channel (rotateSecret: a new signing secret, answered once)', params: IdParams, body: ChannelPatch, response: { 200: Channel, ...errorResponses } }
  }, async (request) => await channels.update(tenantOf(request), request.params.id, request.body))

  app.delete('/api/v1/notification-channels/:id', {
    schema: { tags, security, summary: 'Delete a notification channel and its deliveries', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await channels.remove(tenantOf(request), request.params.id)
    return await reply.status(204).send(null)
  })

  app.post('/api/v1/notification-channels/:id/test', {
    schema: { tags, security, summary: 'Send a test message now and answer how the channel took it', params: IdParams, response: { 200: ChannelTestResult, ...errorResponses } }
  }, async (request) => await channels.test(tenantOf(request), request.params.id))

  app.get('/api/v1/notification-channels/:id/deliveries', {
    schema: { tags, security, summary: 'The channel\'s deliveries, newest first: attempts, status and answer', params: IdParams, querystring: Type.Object(ListQuery), response: { 200: Page(Delivery), ...errorResponses } }
  }, async (request) => await channels.deliveries(tenantOf(request), request.params.id, request.query))
}

export default channelRoutes
