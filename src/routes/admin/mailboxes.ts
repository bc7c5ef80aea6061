import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Page } from '../../schemas/common.js'
import { Mailbox, MailboxCheck, MailboxCreate, MailboxPatch, MailboxWithIngress } from '../../schemas/mailboxes.js'

// A tenant's service mailboxes. HTTP only; the rules live in resources/mailboxes.ts.

const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { mailboxes } = app.resources
  const tags = ['mailboxes']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/mailboxes', {
    schema: { tags, security, summary: 'Register a service mailbox (one per licence); answers its ingress URLs', body: MailboxCreate, response: { 201: MailboxWithIngress, ...errorResponses } }
  }, async (request, reply) => await reply.status(201).send(await mailboxes.create(tenantOf(request), request.body)))

  app.get('/api/v1/mailboxes', {
    schema: { tags, security, summary: 'List service mailboxes', querystring: Type.Object(ListQuery), response: { 200: Page(Mailbox), ...errorResponses } }
  }, async (request) => await mailboxes.list(tenantOf(request), request.query))

  app.get('/api/v1/mailboxes/:id', {
    schema: { tags, security, summary: 'Read a service mailbox', params: IdParams, response: { 200: Mailbox, ...errorResponses } }
  }, async (request) => await mailboxes.get(tenantOf(request), request.params.id))

  app.patch('/api/v1/mailboxes/:id', {
    schema: { tags, security, summary: 'Change a service mailbox (omitted secrets stay as they are; null clears)', params: IdParams, body: MailboxPatch, response: { 200: Mailbox, ...errorResponses } }
  }, async (request) => await mailboxes.update(tenantOf(request), request.params.id, request.body))

  app.delete('/api/v1/mailboxes/:id', {
    schema: { tags, security, summary: 'Delete a service mailbox and its messages', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    await mailboxes.remove(tenantOf(request), request.params.id)
    return await reply.status(204).send(null)
  })

  app.get('/api/v1/mailboxes/:id/ingress', {
    schema: { tags, security, summary: 'The mailbox with its ingress token and URLs, again (409 for a mailbox from before tokens were kept sealed: rotate once)', params: IdParams, response: { 200: MailboxWithIngress, ...errorResponses } }
  }, async (request) => await mailboxes.ingress(tenantOf(request), request.params.id))

  app.post('/api/v1/mailboxes/:id/test', {
    schema: {
      tags,
      security,
      summary: 'Sign in to the mailbox\'s IMAP and SMTP servers with the stored settings (tokens first, for OAuth2), and report each step; changes nothing but a rotated refresh token',
      params: IdParams,
      response: { 200: MailboxCheck, ...errorResponses }
    }
  }, async (request) => await mailboxes.test(tenantOf(request), request.params.id))

  app.post('/api/v1/mailboxes/:id/rotate-token', {
    schema: { tags, security, summary: 'Issue a new ingress token; the old ingress URLs stop working at once', params: IdParams, response: { 200: MailboxWithIngress, ...errorResponses } }
  }, async (request) => await mailboxes.rotateToken(tenantOf(request), request.params.id))
}

export default mailboxRoutes
