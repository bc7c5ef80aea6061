import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { CancelAnswer, CancelBody, Launch, LaunchDetail, LaunchQuery, Message, MessageDetail, MessageQuery, ReplayAnswer, RetryAnswer } from '../../schemas/activity.js'
import { errorResponses, IdParams, Page } from '../../schemas/common.js'

// What arrived and what happened, and what a tenant admin does about a launch. HTTP only; the
// queries live in resources/activity.ts, the actions in resources/launch-actions.ts.

const activityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { messages, launches, launchActions, messageActions, apiKeys } = app.resources
  const who = async (request: Parameters<typeof tenantOf>[0]): Promise<string> => await apiKeys.label(request.principal?.keyId ?? null)
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

  app.post('/api/v1/messages/:id/replay', {
    schema: {
      tags,
      security,
      summary: 'Decide a refused or failed message again',
      description: "As if it had just arrived, under today's senders, robots and settings (a sender authenticated when it arrived stays authenticated): the fix for mail refused before its sender or robot was added. Launches at most once per message: 409 once it has launched, for any status but rejected or failed, and once its content is gone (a refused message is kept MAILRUN_REPLAY_HOURS, 72 by default).",
      params: IdParams,
      response: { 200: ReplayAnswer, ...errorResponses }
    }
  }, async (request) => {
    const tenantId = tenantOf(request)
    const { message: _id, ...result } = await messageActions.replay(tenantId, request.params.id, await who(request))
    return { ...result, message: await messages.get(tenantId, request.params.id) }
  })

  app.post('/api/v1/launches/:id/cancel', {
    schema: {
      tags,
      security,
      summary: 'Cancel a launch, or stop its job',
      description: "The same as a CANCEL email: a launch not started yet is cancelled; a running job is asked to stop (SoftStop; kill: true for Kill); a queue launch's waiting items are deleted. The launch's history says who. 409 when it has already ended, or is starting this very moment.",
      params: IdParams,
      body: CancelBody,
      response: { 200: CancelAnswer, ...errorResponses }
    }
  }, async (request) => {
    const tenantId = tenantOf(request)
    const outcome = await launchActions.cancel(tenantId, request.params.id, await who(request), request.body?.kill ?? false)
    return { ...outcome, launch: await launches.get(tenantId, request.params.id) }
  })

  app.post('/api/v1/launches/:id/retry', {
    schema: {
      tags,
      security,
      summary: 'Retry a launch that ended failed',
      description: 'A new attempt with a fresh budget, under the exactly-once rules: its job (or queue item) is looked up by Reference before anything is started. Answers like a door: launched, or retrying while Orchestrator has not answered. 409 for a launch in any other state.',
      params: IdParams,
      response: { 200: RetryAnswer, ...errorResponses }
    }
  }, async (request) => {
    const tenantId = tenantOf(request)
    const outcome = await launchActions.retry(tenantId, request.params.id, await who(request))
    return { state: outcome.state, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}), launch: await launches.get(tenantId, request.params.id) }
  })
}

export default activityRoutes
