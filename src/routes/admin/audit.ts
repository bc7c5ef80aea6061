import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../errors.js'
import { AuditEvent, AuditQuery } from '../../schemas/audit.js'
import { errorResponses, Page } from '../../schemas/common.js'

// The audit trail, for either key: a tenant key reads its tenant's, the instance-admin key all.
// HTTP only; the rules live in resources/audit.ts.

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { audit } = app.resources
  app.addHook('onRequest', app.requireKey)

  app.get('/api/v1/audit', {
    schema: {
      tags: ['audit'],
      security: [{ bearer: [] }],
      summary: 'Who changed what, and when',
      description: "Every change made through the admin API or the console, newest first: the API key or console user, the resource and its id, the action, and the names of the fields sent (never their values). A tenant key sees its tenant's changes, including the instance admin's changes to it; the instance-admin key sees all, and may filter by tenantId.",
      querystring: AuditQuery,
      response: { 200: Page(AuditEvent), ...errorResponses }
    }
  }, async (request) => {
    const principal = request.principal
    if (principal === null) throw new errors.Unauthorized('an API key is needed')
    if (principal.scope === 'tenant' && request.query.tenantId !== undefined && request.query.tenantId !== principal.tenantId) {
      throw new errors.Forbidden('a tenant key reads only its own tenant\'s audit trail: leave tenantId out')
    }
    return await audit.list(principal.scope === 'tenant' ? principal.tenantId : null, request.query)
  })
}

export default auditRoutes
