import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { MailboxView, MailboxWithIngressView } from '../../resources/mailboxes.js'
import { publicUrlProblems } from '../../net/public-url.js'
import { MailboxCreate, MailboxPatch } from '../../schemas/mailboxes.js'
import { checked } from '../../schemas/validate.js'
import { render, userOf } from '../context.js'
import { formError, readForm } from '../forms.js'

// Service mailboxes: list, add (the ingress URLs are shown once, with a guide per way of
// delivery), change (secrets write-only: a blank field keeps the stored one), rotate the token,
// delete. Warnings say what the settings let through.

type Form = Record<string, string | undefined>

const text = (value: string | undefined): string => (value ?? '').trim()
const nullable = (value: string | undefined): string | null => text(value) === '' ? null : text(value)
const port = (value: string | undefined): number | undefined => text(value) === '' ? undefined : Number(text(value))

/** The API body for a mailbox form; blank secrets are left out (kept), unticked sections cleared. */
/** What the sweep does with handled mail (imap.afterProcessing): the folders only with move. */
function afterProcessingFrom (form: Record<string, string | undefined>): Record<string, unknown> {
  const mode = form.imapAfter === 'seen' || form.imapAfter === 'move' ? form.imapAfter : 'leave'
  if (mode !== 'move') return { afterProcessing: mode }
  const folder = (value: string | undefined): string | undefined => (value ?? '').trim() === '' ? undefined : (value ?? '').trim()
  return { afterProcessing: mode, ...(folder(form.imapProcessedFolder) !== undefined ? { processedFolder: folder(form.imapProcessedFolder) } : {}), ...(folder(form.imapRejectedFolder) !== undefined ? { rejectedFolder: folder(form.imapRejectedFolder) } : {}) }
}

function bodyFrom (form: Form, creating: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    address: text(form.address),
    active: form.active === 'on',
    senderAuth: form.senderAuth ?? 'dmarc',
    trustedAuthservId: nullable(form.trustedAuthservId)
  }
  if (text(form.mailgunSigningKey) !== '') body.mailgunSigningKey = text(form.mailgunSigningKey)
  else if (form.mailgunClear === 'on') body.mailgunSigningKey = null
  if (text(form.sendgridUsername) !== '' && text(form.sendgridPassword) !== '') body.sendgridBasicAuth = { username: text(form.sendgridUsername), password: text(form.sendgridPassword) }
  else if (form.sendgridClear === 'on') body.sendgridBasicAuth = null
  if (form.imapOn === 'on') {
    body.imap = {
      host: text(form.imapHost),
      ...(port(form.imapPort) !== undefined ? { port: port(form.imapPort) } : {}),
      tls: form.imapTls === 'on',
      user: text(form.imapUser),
      ...(text(form.imapPassword) !== '' ? { password: text(form.imapPassword) } : {}),
      folders: text(form.imapFolders).split(',').map((f) => f.trim()).filter(Boolean),
      ...afterProcessingFrom(form)
    }
  } else if (!creating) {
    body.imap = null
  }
  if (form.canaryOn === 'on') body.canary = { intervalMinutes: Number(text(form.canaryInterval) || Number.NaN), deadlineSeconds: Number(text(form.canaryDeadline) || Number.NaN) }
  else if (!creating) body.canary = null
  if (form.smtpOn === 'on') {
    body.smtp = {
      host: text(form.smtpHost),
      ...(port(form.smtpPort) !== undefined ? { port: port(form.smtpPort) } : {}),
      tls: form.smtpTls === 'on',
      user: nullable(form.smtpUser),
      ...(text(form.smtpPassword) !== '' ? { password: text(form.smtpPassword) } : {}),
      fromName: nullable(form.smtpFromName)
    }
  } else if (!creating) {
    body.smtp = null
  }
  return body
}

/** What the form shows for a stored mailbox (never a secret). */
function formOf (m: MailboxView | null): Form {
  return {
    address: m?.address ?? '',
    active: m === null || m.active ? 'on' : undefined,
    senderAuth: m?.senderAuth ?? 'dmarc',
    trustedAuthservId: m?.trustedAuthservId ?? '',
    sendgridUsername: m?.sendgridBasicAuth?.username ?? '',
    imapOn: m?.imap != null ? 'on' : undefined,
    imapHost: m?.imap?.host ?? '',
    imapPort: String(m?.imap?.port ?? 993),
    imapTls: m?.imap == null || m.imap.tls ? 'on' : undefined,
    imapUser: m?.imap?.user ?? '',
    imapFolders: (m?.imap?.folders ?? []).join(', '),
    canaryOn: m?.canary != null ? 'on' : undefined,
    canaryInterval: String(m?.canary?.intervalMinutes ?? 15),
    canaryDeadline: String(m?.canary?.deadlineSeconds ?? 300),
    imapAfter: m?.imap?.afterProcessing ?? 'leave',
    imapProcessedFolder: m?.imap?.processedFolder ?? '',
    imapRejectedFolder: m?.imap?.rejectedFolder ?? '',
    smtpOn: m?.smtp != null ? 'on' : undefined,
    smtpHost: m?.smtp?.host ?? '',
    smtpPort: String(m?.smtp?.port ?? 465),
    smtpTls: m?.smtp == null || m.smtp.tls ? 'on' : undefined,
    smtpUser: m?.smtp?.user ?? '',
    smtpFromName: m?.smtp?.fromName ?? ''
  }
}

export default async function mailboxPages (app: FastifyInstance): Promise<void> {
  const { mailboxes } = app.resources
  // Providers cannot post to these: say so next to the URLs.
  const urlWarnings = publicUrlProblems(app.config.publicUrl).map((p) => p === 'local' ? 'mailboxes.warnLocal' : 'mailboxes.warnHttp')
  const showIngress = async (request: FastifyRequest, reply: Parameters<typeof render>[1], mailbox: MailboxWithIngressView, status: number, issued = true) =>
    await render(request, reply, 'mailbox-ingress.eta', { title: 'mailboxes.title', mailbox, urlWarnings, issued }, status)

  app.get('/console/mailboxes', async (request: FastifyRequest<{ Querystring: { done?: string } }>, reply) => {
    const page = await mailboxes.list(userOf(request).tenantId, { limit: 200 })
    return await render(request, reply, 'mailboxes.eta', { title: 'mailboxes.title', page, notice: request.query.done === 'deleted' ? 'mailboxes.deleted' : null })
  })

  app.get('/console/mailboxes/new', async (request, reply) =>
    await render(request, reply, 'mailbox-form.eta', { title: 'mailboxes.add', mailbox: null, form: formOf(null), error: null }))

  app.post('/console/mailboxes', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const form = readForm(request.body)
    try {
      const created = await mailboxes.create(userOf(request).tenantId, checked(MailboxCreate, bodyFrom(form, true)))
      return await showIngress(request, reply, created, 201)
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'mailbox-form.eta', { title: 'mailboxes.add', mailbox: null, form, error: problem.message }, problem.status)
    }
  })

  app.get('/console/mailboxes/:id', async (request: FastifyRequest<{ Params: { id: string }, Querystring: { done?: string } }>, reply) => {
    const mailbox = await mailboxes.get(userOf(request).tenantId, request.params.id)
    return await render(request, reply, 'mailbox.eta', { title: 'mailboxes.title', mailbox, form: formOf(mailbox), error: null, urlWarnings, check: null, notice: request.query.done === 'saved' ? 'senders.saved' : null })
  })

  app.post('/console/mailboxes/:id', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const tenantId = userOf(request).tenantId
    const mailbox = await mailboxes.get(tenantId, request.params.id)
    const form = readForm(request.body)
    try {
      await mailboxes.update(tenantId, mailbox.id, checked(MailboxPatch, bodyFrom(form, false)))
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'mailbox.eta', { title: 'mailboxes.title', mailbox, form, error: problem.message, urlWarnings, check: null, notice: null }, problem.status)
    }
    return await reply.redirect(`/console/mailboxes/${mailbox.id}?done=saved`, 303)
  })

  // As the Orchestrator test: viewers may run it too; it changes nothing they could not see.
  app.post('/console/mailboxes/:id/test', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const tenantId = userOf(request).tenantId
    const mailbox = await mailboxes.get(tenantId, request.params.id)
    const check = await mailboxes.test(tenantId, mailbox.id)
    return await render(request, reply, 'mailbox.eta', { title: 'mailboxes.title', mailbox, form: formOf(mailbox), error: null, urlWarnings, check, notice: null })
  })

  // The URLs hold the door's credential: admins only, like every change.
  app.get('/console/mailboxes/:id/ingress', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = userOf(request)
    if (user.role !== 'admin') throw Object.assign(new Error('viewers do not see ingress URLs'), { statusCode: 403 })
    return await showIngress(request, reply, await mailboxes.ingress(user.tenantId, request.params.id), 200, false)
  })

  app.post('/console/mailboxes/:id/rotate-token', async (request: FastifyRequest<{ Params: { id: string } }>, reply) =>
    await showIngress(request, reply, await mailboxes.rotateToken(userOf(request).tenantId, request.params.id), 200))

  app.post('/console/mailboxes/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    await mailboxes.remove(userOf(request).tenantId, request.params.id)
    return await reply.redirect('/console/mailboxes?done=deleted', 303)
  })
}
