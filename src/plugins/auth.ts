import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { authenticateKey, type Principal } from '../auth/api-keys.js'
import { errors, tooManyFailures } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyInstance {
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    requireTenant: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** Either scope: for the few reads both answer, each within its own reach. */
    requireKey: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i

/** The tenant a tenant-scoped request acts for; only call behind requireTenant. */
export function tenantOf (request: FastifyRequest): string {
  const principal = request.principal
  if (principal?.scope !== 'tenant') throw new errors.Forbidden('this operation needs a tenant API key')
  return principal.tenantId
}

export default fp(async function auth (app: FastifyInstance) {
  app.decorateRequest('principal', null)

  async function authenticate (request: FastifyRequest): Promise<Principal> {
    // An address past its failed-credential allowance is refused before its key is even looked
    // at: otherwise the answer to a right guess would stand out.
    const wait = app.failures.blocked(request.ip)
    if (wait !== null) throw tooManyFailures(wait)
    const refuse = (message: string): Error => {
      app.failures.fail(request.ip)
      return new errors.Unauthorized(message)
    }
    const header = request.headers.authorization
    if (header === undefined || header === '') throw refuse('Missing Authorization header: send "Authorization: Bearer <api key>"')
    const key = BEARER.exec(header)?.[1]
    if (key === undefined) throw refuse('Malformed Authorization header: expected "Bearer <api key>"')
    const principal = await authenticateKey(app.db, key, app.config.adminKey)
    if (principal === null) throw refuse('Unknown or revoked API key')
    request.principal = principal
    return principal
  }

  // The two scopes never stand in for each other: an instance-admin key has no tenant, so it
  // cannot touch tenant data by accident, and a tenant key cannot manage tenants.
  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    const principal = await authenticate(request)
    if (principal.scope !== 'admin') throw new errors.Forbidden('This operation needs the instance-admin key; a tenant key manages only its own tenant under /api/v1/orchestrator, /mailboxes, /senders, /robots, /messages and /launches')
  })
  app.decorate('requireTenant', async (request: FastifyRequest) => {
    const principal = await authenticate(request)
    if (principal.scope !== 'tenant') throw new errors.Forbidden('This is the instance-admin key, which has no tenant: create a tenant key with POST /api/v1/tenants/{id}/api-keys and use that for tenant resources')
  })
  app.decorate('requireKey', async (request: FastifyRequest) => { await authenticate(request) })
}, { name: 'auth', dependencies: ['services'] })
