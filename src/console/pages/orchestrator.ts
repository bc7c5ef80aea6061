import type { FastifyInstance, FastifyRequest } from 'fastify'
import { secretField, type ConnectionView } from '../../resources/orchestrator.js'
import { ConnectionPut } from '../../schemas/orchestrator.js'
import { checked } from '../../schemas/validate.js'
import { render, userOf } from '../context.js'
import { formError, readForm } from '../forms.js'

// The Orchestrator connection: one form (the secret of the chosen sign-in mode in one write-only
// field; blank keeps the stored one) and the step-by-step test.

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
  const { orchestrator } = app.resources
  const current = async (tenantId: string): Promise<ConnectionView | null> => await orchestrator.get(tenantId).catch((error: unknown) => {
    if ((error as { statusCode?: number }).statusCode === 404) return null
    throw error
  })

  app.get('/console/orchestrator', async (request: FastifyRequest<{ Querystring: { done?: string } }>, reply) => {
    const connection = await current(userOf(request).tenantId)
    return await render(request, reply, 'orchestrator.eta', { title: 'orch.title', connection, form: formOf(connection), check: null, error: null, notice: request.query.done === 'saved' ? 'senders.saved' : null })
  })

  app.post('/console/orchestrator', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const tenantId = userOf(request).tenantId
    const form = readForm(request.body)
    try {
      await orchestrator.put(tenantId, checked(ConnectionPut, bodyFrom(form)))
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'orchestrator.eta', { title: 'orch.title', connection: await current(tenantId), form, check: null, error: problem.message, notice: null }, problem.status)
    }
    return await reply.redirect('/console/orchestrator?done=saved', 303)
  })

  app.post('/console/orchestrator/test', async (request, reply) => {
    const tenantId = userOf(request).tenantId
    const connection = await current(tenantId)
    const check = connection === null ? null : await orchestrator.test(tenantId)
    return await render(request, reply, 'orchestrator.eta', { title: 'orch.title', connection, form: formOf(connection), check, error: connection === null ? 'orch.none' : null, notice: null })
  })
}
