import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { auditEntry } from '../audit/audit-entry.js'

// Every change made through the admin API or the console is recorded once it has succeeded: who
// (the API key or console user), what (resource, action, id, the names of the fields sent — never
// their values), when. Written before the answer leaves; a failure to write is logged, not turned
// into a failed request, because the change itself has already been made.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function createdIdOf (payload: unknown): string | null {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return null
  const match = /^\{"id":"([0-9a-f-]{36})"/.exec(payload)
  return match?.[1] ?? null
}

export default fp(async function auditTrail (app: FastifyInstance) {
  async function actorOf (request: FastifyRequest): Promise<{ kind: 'api_key' | 'console_user' | 'instance_admin', id: string | null, label: string, tenantId: string | null } | null> {
    const principal = request.principal
    if (principal !== null) {
      if (principal.scope === 'admin' && principal.keyId === null) return { kind: 'instance_admin', id: null, label: 'instance-admin key (MAILRUN_ADMIN_KEY)', tenantId: null }
      const label = await app.resources.apiKeys.label(principal.keyId)
      return principal.scope === 'admin'
        ? { kind: 'instance_admin', id: principal.keyId, label: `instance-admin ${label}`, tenantId: null }
        : { kind: 'api_key', id: principal.keyId, label, tenantId: principal.tenantId }
    }
    const user = request.consoleUser
    if (user === null || user === undefined) return null
    if (user.instanceAdmin) return { kind: 'instance_admin', id: null, label: 'instance admin (console)', tenantId: null }
    return { kind: 'console_user', id: user.id, label: user.email, tenantId: user.tenantId }
  }

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return payload
    const route = request.routeOptions.url
    if (route === undefined) return payload
    const entry = auditEntry({ method: request.method, route, params: request.params as Record<string, string | undefined>, body: request.body, status: reply.statusCode, createdId: createdIdOf(payload) })
    if (entry === null) return payload
    try {
      const actor = await actorOf(request)
      if (actor === null) return payload
      // The instance admin acts on a tenant named in the path (or the one just created).
      const location = String(reply.getHeader('location') ?? '')
      const tenantInPath = /^\/(?:api\/v1|console\/admin)\/tenants(\/|$)/.test(route)
        ? (request.params as { id?: string }).id ?? (/\/tenants\/([0-9a-f-]{36})/.exec(location)?.[1]) ?? (entry.resource === 'tenants' ? entry.resourceId : null)
        : null
      const tenantId = actor.tenantId ?? (tenantInPath !== null && tenantInPath !== undefined && UUID.test(tenantInPath) ? tenantInPath : null)
      await app.db.insertInto('audit_events').values({
        tenant_id: tenantId,
        actor_kind: actor.kind,
        actor_id: actor.id,
        actor: actor.label,
        via: entry.via,
        action: entry.action,
        resource: entry.resource,
        resource_id: entry.resourceId,
        fields: JSON.stringify(entry.fields)
      }).execute()
    } catch (error) {
      request.log.warn({ err: error, route, method: request.method }, 'the audit trail could not record this change')
    }
    return payload
  })
}, { name: 'audit-trail', dependencies: ['auth'] })
