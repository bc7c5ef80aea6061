import type { FastifyInstance, FastifyRequest } from 'fastify'
import { localeOf, render, userOf } from '../context.js'
import { translator, type MessageKey } from '../i18n.js'
import { SenderCreate } from '../../schemas/senders.js'
import { refusalText } from '../error-text.js'
import { checkShape, formError, readForm } from '../forms.js'
import { sendersFromCsv } from '../senders-csv.js'

// Senders: list and search, add, change, deactivate, delete, erase.

type Form = Record<string, string | undefined>

const senderFrom = (form: Form) => ({ fullName: String(form.fullName ?? '').trim(), email: String(form.email ?? '').trim(), active: form.active === 'on' })

const translate = (request: FastifyRequest, key: MessageKey, values: Record<string, string | number>): string => translator(localeOf(request))(key, values)

export default async function senderPages (app: FastifyInstance): Promise<void> {
  const { senders } = app.resources

  const list = async (request: FastifyRequest<{ Querystring: { search?: string, cursor?: string } }>, extra: Record<string, unknown> = {}) => {
    const search = typeof request.query.search === 'string' ? request.query.search.slice(0, 200) : ''
    const page = await senders.list(userOf(request).tenantId, { search, limit: 50, ...(typeof request.query.cursor === 'string' ? { cursor: request.query.cursor } : {}) })
    return { title: 'senders.title', page, search, form: { fullName: '', email: '', active: true }, error: null, notice: null, erased: null, imported: null, importError: null, csv: '', ...extra }
  }

  app.get('/console/senders', async (request: FastifyRequest<{ Querystring: { search?: string, cursor?: string, done?: string, messages?: string, replies?: string } }>, reply) => {
    const notice = request.query.done === 'created' ? 'senders.created' : request.query.done === 'deleted' ? 'senders.deleted' : null
    const count = (name: 'messages' | 'replies'): number => Number.parseInt(String(request.query[name] ?? '0'), 10) || 0
    const erased = request.query.done === 'erased' ? translate(request, 'senders.erased', { messages: count('messages'), replies: count('replies') }) : null
    return await render(request, reply, 'senders.eta', await list(request, { notice, erased }))
  })

  app.post('/console/senders', async (request: FastifyRequest<{ Body: Form, Querystring: Record<string, string> }>, reply) => {
    const form = senderFrom(readForm(request.body))
    try {
      checkShape(SenderCreate, form)
      await senders.create(userOf(request).tenantId, form)
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'senders.eta', await list(request, { form, error: problem.message }), problem.status)
    }
    return await reply.redirect('/console/senders?done=created', 303)
  })

  // A pasted list can be long: up to MAX_ROWS lines of a name and an address.
  app.post('/console/senders/import', { bodyLimit: 1024 * 1024 }, async (request: FastifyRequest<{ Body: Form, Querystring: Record<string, string> }>, reply) => {
    const csv = readForm(request.body).csv ?? ''
    try {
      const result = await senders.importRows(userOf(request).tenantId, sendersFromCsv(csv))
      const locale = localeOf(request)
      const imported = { ...result, problems: result.problems.map((p) => ({ row: p.row, message: refusalText(p, locale) })) }
      return await render(request, reply, 'senders.eta', await list(request, { imported, csv: result.problems.length > 0 ? csv : '' }))
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'senders.eta', await list(request, { importError: problem.message, csv }), problem.status)
    }
  })

  app.get('/console/senders/:id', async (request: FastifyRequest<{ Params: { id: string }, Querystring: { done?: string } }>, reply) => {
    const sender = await senders.get(userOf(request).tenantId, request.params.id)
    return await render(request, reply, 'sender.eta', { sender, form: sender, error: null, notice: request.query.done === 'saved' ? 'senders.saved' : null })
  })

  app.post('/console/senders/:id', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const tenantId = userOf(request).tenantId
    const sender = await senders.get(tenantId, request.params.id)
    const form = senderFrom(readForm(request.body))
    try {
      checkShape(SenderCreate, form)
      await senders.update(tenantId, sender.id, form)
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'sender.eta', { sender, form, error: problem.message, notice: null }, problem.status)
    }
    return await reply.redirect(`/console/senders/${sender.id}?done=saved`, 303)
  })

  // Erasure cannot be undone: the form asks for the sender's address, typed again.
  app.post('/console/senders/:id/erase', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const tenantId = userOf(request).tenantId
    const sender = await senders.get(tenantId, request.params.id)
    const confirm = (readForm(request.body).confirm ?? '').trim().toLowerCase()
    const again = async (error: string, status: number) => await render(request, reply, 'sender.eta', { sender, form: sender, error, notice: null }, status)
    if (confirm !== sender.email.toLowerCase()) return await again(translate(request, 'senders.eraseConfirmWrong', { email: sender.email }), 400)
    try {
      const erased = await senders.erase(tenantId, sender.id)
      return await reply.redirect(`/console/senders?done=erased&messages=${erased.messages}&replies=${erased.replies}`, 303)
    } catch (error) {
      const busy = (error as { erasureBusy?: number }).erasureBusy
      if (busy === undefined) throw error
      return await again(translate(request, 'senders.eraseBusy', { n: busy }), 409)
    }
  })

  app.post('/console/senders/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    await senders.remove(userOf(request).tenantId, request.params.id)
    return await reply.redirect('/console/senders?done=deleted', 303)
  })
}
