import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TEAM_EVENTS } from '../../alerts/team-events.js'
import { ChannelCreate } from '../../schemas/notification-channels.js'
import { checked } from '../../schemas/validate.js'
import { render, userOf } from '../context.js'
import { formError, readForm } from '../forms.js'

// Alert channels: where the team is told of faulted and stopped jobs and launches that gave up.
// One page lists them with their state and adds one; a channel's page shows its deliveries, sends
// a test and deletes it. A webhook's signing secret is shown once, on the page that made it.

type Form = Record<string, string | undefined>
const KINDS = ['slack', 'teams', 'google_chat', 'chatwork', 'email', 'webhook'] as const

function bodyFrom (form: Form): Record<string, unknown> {
  const kind = (KINDS as readonly string[]).includes(form.kind ?? '') ? form.kind as string : 'slack'
  const text = (value: string | undefined): string | undefined => (value ?? '').trim() === '' ? undefined : (value ?? '').trim()
  const recipients = (form.recipients ?? '').split(/[\n,;]+/).map((r) => r.trim()).filter((r) => r !== '')
  return {
    name: (form.name ?? '').trim(),
    kind,
    events: TEAM_EVENTS.filter((e) => form[`event.${e}`] === 'on'),
    digest: form.digest === 'daily' || form.digest === 'weekly' ? form.digest : null,
    ...(kind === 'chatwork' ? { roomId: text(form.roomId), token: text(form.token) } : {}),
    ...(kind === 'email' ? { recipients } : {}),
    ...(kind !== 'chatwork' && kind !== 'email' ? { url: text(form.url) } : {})
  }
}

const blankForm = (): Form => ({ name: '', kind: 'slack', url: '', roomId: '', recipients: '', digest: '', 'event.job.faulted': 'on', 'event.job.stopped': 'on', 'event.launch.failed': 'on' })

export default async function alertPages (app: FastifyInstance): Promise<void> {
  const { notificationChannels: channels } = app.resources

  const listPage = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) => {
    const page = await channels.list(userOf(request).tenantId, { limit: 100 })
    return await render(request, reply, 'alerts.eta', { title: 'alerts.title', channels: page.items, events: TEAM_EVENTS, kinds: KINDS, form: blankForm(), error: null, created: null, notice: null, ...extra }, status)
  }
  const channelPage = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
    const tenantId = userOf(request).tenantId
    const channel = await channels.get(tenantId, request.params.id)
    const deliveries = (await channels.deliveries(tenantId, channel.id, { limit: 50 })).items
    return await render(request, reply, 'alert-channel.eta', { title: 'alerts.title', channel, deliveries, tested: null, secret: null, notice: null, ...extra })
  }

  app.get('/console/alerts', async (request: FastifyRequest<{ Querystring: { done?: string } }>, reply) =>
    await listPage(request, reply, { notice: request.query.done === 'deleted' ? 'alerts.deleted' : null }))

  app.post('/console/alerts', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const form = readForm(request.body)
    try {
      const created = await channels.create(userOf(request).tenantId, checked(ChannelCreate, bodyFrom(form)))
      return await listPage(request, reply, { created }, 201)
    } catch (error) {
      const problem = formError(error, request)
      return await listPage(request, reply, { form, error: problem.message }, problem.status)
    }
  })

  app.get('/console/alerts/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => await channelPage(request, reply))

  app.post('/console/alerts/:id/test', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const tested = await channels.test(userOf(request).tenantId, request.params.id)
    return await channelPage(request, reply, { tested })
  })

  app.post('/console/alerts/:id/rotate-secret', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const channel = await channels.update(userOf(request).tenantId, request.params.id, { rotateSecret: true })
    return await channelPage(request, reply, { secret: channel.signingSecret ?? null })
  })

  app.post('/console/alerts/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    await channels.remove(userOf(request).tenantId, request.params.id)
    return await reply.redirect('/console/alerts?done=deleted', 303)
  })
}
