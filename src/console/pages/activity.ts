import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../../errors.js'
import { localeOf, render, userOf } from '../context.js'
import { readForm } from '../forms.js'
import { translator, type MessageKey } from '../i18n.js'
import { consoleText } from '../../notify/history-text.js'

// What arrived and what happened: messages and launches, filterable, each with its whole story.

const MESSAGE_STATUSES = ['accepted', 'rejected', 'ignored', 'failed', 'received'] as const
const LAUNCH_STATES = ['pending', 'retrying', 'launching', 'launched', 'completed', 'faulted', 'stopped', 'failed'] as const
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

type Query = Record<string, string | undefined>

/** The filters a list page takes from its query string; a value the list cannot take is a 400 that names it. */
function filters (query: Query, states: readonly string[], stateKey: 'status' | 'state') {
  const out: Record<string, string> = {}
  const state = query[stateKey]
  if (state !== undefined && state !== '') {
    if (!states.includes(state)) throw new errors.BadRequest(`${stateKey} must be one of ${states.join(', ')}`)
    out[stateKey] = state
  }
  for (const key of ['robotId', 'senderId'] as const) {
    const value = query[key]
    if (value !== undefined && value !== '') {
      if (!UUID.test(value)) throw new errors.BadRequest(`${key} is not an id`)
      out[key] = value
    }
  }
  for (const [key, end] of [['since', false], ['until', true]] as const) {
    const value = query[key]
    if (value !== undefined && value !== '') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new errors.BadRequest(`${key} must be a date (YYYY-MM-DD)`)
      // A date picked as "until" includes that whole day.
      out[key] = new Date(Date.parse(value) + (end ? 24 * 3600_000 : 0)).toISOString()
    }
  }
  const cursor = query.cursor !== undefined && query.cursor !== '' ? { cursor: query.cursor } : {}
  return { filter: out, cursor }
}

/** The link to the next page: the same filters as typed, and the list's cursor. */
function nextHref (path: string, query: Query, cursor: string | null): string | null {
  if (cursor === null) return null
  const kept = Object.entries(query).filter(([k, v]) => k !== 'cursor' && v !== undefined && v !== '') as Array<[string, string]>
  return `${path}?${new URLSearchParams([...kept, ['cursor', cursor]]).toString()}`
}

export default async function activityPages (app: FastifyInstance): Promise<void> {
  const { messages, launches, robots, senders, launchActions, messageActions } = app.resources

  app.get('/console/messages', async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const tenantId = userOf(request).tenantId
    const { filter, cursor } = filters(request.query, MESSAGE_STATUSES, 'status')
    const page = await messages.list(tenantId, { ...filter, ...cursor, limit: 50 })
    const robotList = (await robots.list(tenantId, { limit: 200 })).items
    return await render(request, reply, 'messages.eta', { page, query: request.query, statuses: MESSAGE_STATUSES, robots: robotList, next: nextHref('/console/messages', request.query, page.nextCursor) })
  })

  const who = (request: FastifyRequest): string => {
    const user = userOf(request)
    return `${user.name !== '' ? user.name : user.email} (console)`
  }

  const showMessage = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, extra: { notice?: string | null, error?: string | null } = {}, status = 200) => {
    const tenantId = userOf(request).tenantId
    if (!UUID.test(request.params.id)) throw new errors.NotFound('no such message')
    const message = await messages.get(tenantId, request.params.id)
    const sender = message.senderId !== null ? await senders.get(tenantId, message.senderId).catch(() => null) : null
    const launch = message.launchId !== null ? await launches.get(tenantId, message.launchId) : null
    return await render(request, reply, 'message.eta', { message, sender, launch, replayable: await messageActions.replayable(tenantId, message.id), notice: extra.notice ?? null, error: extra.error ?? null }, status)
  }

  app.get('/console/messages/:id', async (request: FastifyRequest<{ Params: { id: string }, Querystring: { done?: string } }>, reply) =>
    await showMessage(request, reply, { notice: request.query.done === 'replayed' ? translator(localeOf(request))('msg.replayed') : null }))

  // Post/redirect/get, as every action: reloading the answer never decides the message again.
  app.post('/console/messages/:id/replay', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    if (!UUID.test(request.params.id)) throw new errors.NotFound('no such message')
    try {
      await messageActions.replay(userOf(request).tenantId, request.params.id, who(request))
      return await reply.redirect(`/console/messages/${request.params.id}?done=replayed`, 303)
    } catch (error) {
      const code = (error as { messageAction?: string }).messageAction
      if (code === undefined) throw error
      const t = translator(localeOf(request))
      return await showMessage(request, reply, { error: t(`msg.replayRefused.${code}` as MessageKey, { hours: app.config.replayHours }) }, 409)
    }
  })

  app.get('/console/launches', async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const tenantId = userOf(request).tenantId
    const { filter, cursor } = filters(request.query, LAUNCH_STATES, 'state')
    const page = await launches.list(tenantId, { ...filter, ...cursor, limit: 50 })
    const robotList = (await robots.list(tenantId, { limit: 200 })).items
    return await render(request, reply, 'launches.eta', { page, query: request.query, states: LAUNCH_STATES, robots: robotList, next: nextHref('/console/launches', request.query, page.nextCursor) })
  })

  const NOTICES: Record<string, MessageKey> = {
    cancelled: 'launch.done.cancelled',
    stop_requested: 'launch.done.stopRequested',
    run_stop_requested: 'launch.done.runStopRequested',
    kill_requested: 'launch.done.killRequested',
    queue_deleted: 'launch.done.queueDeleted',
    queue_item: 'launch.done.queueItem',
    retried: 'launch.done.retried',
    tested: 'launch.done.tested'
  }
  const showLaunch = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, extra: { notice?: MessageKey | null, error?: string | null } = {}, status = 200) => {
    if (!UUID.test(request.params.id)) throw new errors.NotFound('no such launch')
    const launch = await launches.get(userOf(request).tenantId, request.params.id)
    return await render(request, reply, 'launch.eta', { launch, notice: extra.notice ?? null, error: extra.error ?? null }, status)
  }

  app.get('/console/launches/:id', async (request: FastifyRequest<{ Params: { id: string }, Querystring: { done?: string } }>, reply) =>
    await showLaunch(request, reply, { notice: NOTICES[request.query.done ?? ''] ?? null }))

  /** What the console says when an action cannot be done, in the user's language. */
  const refusal = (request: FastifyRequest, error: unknown): string | null => {
    const t = translator(localeOf(request))
    const reason = error as { launchAction?: string, state?: string }
    switch (reason.launchAction) {
      case 'ended': return t('launch.refused.ended', { state: t(`state.${reason.state ?? ''}` as MessageKey) })
      case 'starting': return t('launch.refused.starting')
      case 'not_stoppable': return t('launch.refused.notStoppable')
      case 'not_failed': return t('launch.refused.notFailed', { state: t(`state.${reason.state ?? ''}` as MessageKey) })
      case 'no_attachments': return t('launch.refused.noAttachments')
      case 'changed': return t('launch.refused.changed')
      default: return null
    }
  }

  // Actions answer with a redirect (post/redirect/get): reloading the page never acts twice.
  app.post('/console/launches/:id/cancel', async (request: FastifyRequest<{ Params: { id: string }, Body: Record<string, string | undefined> }>, reply) => {
    if (!UUID.test(request.params.id)) throw new errors.NotFound('no such launch')
    const kill = readForm(request.body).kill === 'on'
    try {
      const outcome = await launchActions.cancel(userOf(request).tenantId, request.params.id, who(request), kill)
      if (outcome.outcome === 'stop_failed') return await showLaunch(request, reply, { error: translator(localeOf(request))('launch.refused.stopFailed', { reason: outcome.reason }) }, 502)
      if (outcome.outcome === 'run_stop_failed') return await showLaunch(request, reply, { error: translator(localeOf(request))('launch.refused.runStopFailed', { reason: consoleText(outcome.reason, localeOf(request)) }) }, 502)
      const done = outcome.outcome === 'stop_requested' && kill ? 'kill_requested' : outcome.outcome
      return await reply.redirect(`/console/launches/${request.params.id}?done=${done}`, 303)
    } catch (error) {
      const message = refusal(request, error)
      if (message === null) throw error
      return await showLaunch(request, reply, { error: message }, 409)
    }
  })

  app.post('/console/launches/:id/retry', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    if (!UUID.test(request.params.id)) throw new errors.NotFound('no such launch')
    try {
      await launchActions.retry(userOf(request).tenantId, request.params.id, who(request))
      return await reply.redirect(`/console/launches/${request.params.id}?done=retried`, 303)
    } catch (error) {
      const message = refusal(request, error)
      if (message === null) throw error
      return await showLaunch(request, reply, { error: message }, 409)
    }
  })
}
