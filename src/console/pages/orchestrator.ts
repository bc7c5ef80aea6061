import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { secretField, type ConnectionView } from '../../resources/orchestrator.js'
import { ConnectionCreate } from '../../schemas/connections.js'
import { ConnectionPut } from '../../schemas/orchestrator.js'
import { checked } from '../../schemas/validate.js'
import { render, userOf } from '../context.js'
import { formError, readForm } from '../forms.js'

// Connections: the Orchestrator connection — one form (the secret of the chosen sign-in mode in one
// write-only field; blank keeps the stored one) and the step-by-step test — and the HTTP targets,
// each added with a name and a URL, tested, given a new secret (shown once) or deleted.

type Form = Record<string, string | undefined>
const text = (value: string | undefined): string | null => (value ?? '').trim() === '' ? null : (value ?? '').trim()

function formOf (c: ConnectionView | null): Form {
  return {
    kind: c?.kind ?? 'cloud',
    url: c?.url ?? 'https://cloud.uipath.com',
    organization: c?.organization ?? '',
    tenantName: c?.tenantName ?? '',
    authMode: c?.authMode ?? 'client_credentials',
    clientId: c?.clientId ?? '',
    scopes: c?.scopes ?? '',
    username: c?.username ?? '',
    defaultFolder: c?.defaultFolder ?? ''
  }
}

function bodyFrom (form: Form): Record<string, unknown> {
  const mode = (form.authMode ?? 'client_credentials') as keyof typeof secretField
  const body: Record<string, unknown> = {
    kind: form.kind === 'onprem' ? 'onprem' : 'cloud',
    url: (form.url ?? '').trim(),
    organization: text(form.organization),
    tenantName: text(form.tenantName),
    authMode: mode,
    clientId: text(form.clientId),
    scopes: text(form.scopes),
    username: text(form.username),
    defaultFolder: text(form.defaultFolder)
  }
  if (text(form.secret) !== null && secretField[mode] !== undefined) body[secretField[mode]] = text(form.secret)
  if (text(form.webhookSecret) !== null) body.webhookSecret = text(form.webhookSecret)
  return body
}

export default async function orchestratorPages (app: FastifyInstance): Promise<void> {
  const { orchestrator, connections } = app.resources
  const current = async (tenantId: string): Promise<ConnectionView | null> => await orchestrator.get(tenantId).catch((error: unknown) => {
    if ((error as { statusCode?: number }).statusCode === 404) return null
    throw error
  })
  const NOTICES: Record<string, string> = { saved: 'senders.saved', targetDeleted: 'orch.targetDeleted' }

  /** The page, with whatever an action has to show on it (a check, a new target and its secret, an error). */
  const page = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) => {
    const tenantId = userOf(request).tenantId
    const connection = await current(tenantId)
    const targets = (await connections.list(tenantId)).items.filter((c) => c.kind !== 'uipath')
    return await render(request, reply, 'orchestrator.eta', {
      title: 'orch.title', connection, form: formOf(connection), check: null, error: null, notice: null, targets, targetForm: { name: '', url: '' }, flowForm: { name: '', environmentUrl: '', tenantId: '', clientId: '' }, botForm: { name: '', controlRoomUrl: '', username: '' }, targetError: null, flowError: null, botError: null, created: null, targetCheck: null, ...extra
    }, status)
  }

  app.get('/console/orchestrator', async (request: FastifyRequest<{ Querystring: { done?: string } }>, reply) =>
    await page(request, reply, { notice: NOTICES[request.query.done ?? ''] ?? null }))

  app.post('/console/orchestrator', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const tenantId = userOf(request).tenantId
    const form = readForm(request.body)
    try {
      await orchestrator.put(tenantId, checked(ConnectionPut, bodyFrom(form)))
    } catch (error) {
      const problem = formError(error, request)
      return await page(request, reply, { form, error: problem.message }, problem.status)
    }
    return await reply.redirect('/console/orchestrator?done=saved', 303)
  })

  app.post('/console/orchestrator/test', async (request, reply) => {
    const tenantId = userOf(request).tenantId
    const connection = await current(tenantId)
    const check = connection === null ? null : await orchestrator.test(tenantId)
    return await page(request, reply, { check, error: connection === null ? 'orch.none' : null })
  })

  app.post('/console/connections', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const form = readForm(request.body)
    const targetForm = { name: (form.name ?? '').trim(), url: (form.url ?? '').trim() }
    try {
      const created = await connections.create(userOf(request).tenantId, checked(ConnectionCreate, { ...targetForm, kind: 'http' }))
      return await page(request, reply, { created }, 201)
    } catch (error) {
      const problem = formError(error, request)
      return await page(request, reply, { targetForm, targetError: problem.message }, problem.status)
    }
  })

  app.post('/console/connections/power-automate', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const form = readForm(request.body)
    const flowForm = { name: (form.name ?? '').trim(), environmentUrl: (form.environmentUrl ?? '').trim(), tenantId: (form.tenantId ?? '').trim(), clientId: (form.clientId ?? '').trim() }
    try {
      const created = await connections.create(userOf(request).tenantId, checked(ConnectionCreate, { ...flowForm, kind: 'power_automate', clientSecret: (form.clientSecret ?? '').trim() }))
      return await page(request, reply, { created }, 201)
    } catch (error) {
      const problem = formError(error, request)
      return await page(request, reply, { flowForm, flowError: problem.message }, problem.status)
    }
  })

  app.post('/console/connections/automation-anywhere', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const form = readForm(request.body)
    const botForm = { name: (form.name ?? '').trim(), controlRoomUrl: (form.controlRoomUrl ?? '').trim(), username: (form.username ?? '').trim() }
    try {
      const created = await connections.create(userOf(request).tenantId, checked(ConnectionCreate, { ...botForm, kind: 'automation_anywhere', apiKey: (form.apiKey ?? '').trim() }))
      return await page(request, reply, { created }, 201)
    } catch (error) {
      const problem = formError(error, request)
      return await page(request, reply, { botForm, botError: problem.message }, problem.status)
    }
  })

  app.post('/console/connections/:id/test', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const tenantId = userOf(request).tenantId
    const target = await connections.get(tenantId, request.params.id)
    return await page(request, reply, { targetCheck: { name: target.name, ...await connections.test(tenantId, target.id) } })
  })

  app.post('/console/connections/:id/rotate-secret', async (request: FastifyRequest<{ Params: { id: string } }>, reply) =>
    await page(request, reply, { created: await connections.update(userOf(request).tenantId, request.params.id, { rotateSecret: true }) }))

  app.post('/console/connections/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    try {
      await connections.remove(userOf(request).tenantId, request.params.id)
    } catch (error) {
      const problem = formError(error, request)
      return await page(request, reply, { targetError: problem.message }, problem.status)
    }
    return await reply.redirect('/console/orchestrator?done=targetDeleted', 303)
  })
}
