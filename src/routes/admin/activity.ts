import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { Launch, LaunchDetail, LaunchQuery, Message, MessageDetail, MessageQuery } from '../../schemas/activity.js'
import { errorResponses, IdParams, Page } from '../../schemas/common.js'

// What arrived and what happened: read-only. HTTP only; the queries live in resources/activity.ts.

const activityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { messages, launches } = app.resources
  const tags = ['activity']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.get('/api/v1/messages', {
    schema: { tags, security, summary: 'Messages that arrived, newest first', querystring: MessageQuery, response: { 200: Page(Message), ...errorResponses } }
  }, async (request) => await messages.list(tenantOf(request), request.query))

  app.get('/api/v1/messages/:id', {
    schema: { tags, security, summary: 'One message, with the launch it led to', params: IdParams, response: { 200: MessageDetail, ...errorResponses } }
  }, async (request) => await messages.get(tenantOf(request), request.params.id))

  app.get('/api/v1/launches', {
    schema: { tags, security, summary: 'Launch attempts, newest first', querystring: LaunchQuery, response: { 200: Page(Launch), ...errorResponses } }
  }, async (request) => await launches.list(tenantOf(request), request.query))

  app.get('/api/v1/launches/:id', {
    schema: { tags, security, summary: 'One launch with its state history, attempts and errors', params: IdParams, response: { 200: LaunchDetail, ...errorResponses } }
  }, async (request) => await launches.get(tenantOf(request), request.params.id))
}

export default activityRoutes
