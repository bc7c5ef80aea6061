import type { FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { hashKey } from '../../auth/api-keys.js'
import activityRoutes from './activity.js'
import auditRoutes from './audit.js'
import connectionRoutes from './connections.js'
import mailboxRoutes from './mailboxes.js'
import channelRoutes from './notification-channels.js'
import robotRoutes from './robots.js'
import senderRoutes from './senders.js'
import orchestratorRoutes from './orchestrator.js'
import tenantRoutes from './tenants.js'
import testSendRoutes from './test-sends.js'
import userRoutes from './users.js'

const BEARER = /^Bearer\s+(\S+)\s*$/i

/** The admin JSON API under /api/v1: rate-limited per API key, each resource in its own plugin. */
export default async function adminApi (app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, {
    max: app.config.adminRateLimitPerMinute,
    timeWindow: 60_000,
    // Per key (its hash, so the limiter's memory never holds a usable key), else per client address.
    keyGenerator: (request) => {
      const key = BEARER.exec(request.headers.authorization ?? '')?.[1]
      return key !== undefined ? `key:${hashKey(key)}` : `ip:${request.ip}`
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'MAILRUN_ERR_RATE_LIMITED',
      message: `Too many requests: at most ${context.max} per minute for this key. Retry after ${Math.ceil(context.ttl / 1000)} s.`
    })
  })
  await app.register(tenantRoutes)
  await app.register(orchestratorRoutes)
  await app.register(connectionRoutes)
  await app.register(mailboxRoutes)
  await app.register(senderRoutes)
  await app.register(robotRoutes)
  await app.register(activityRoutes)
  await app.register(userRoutes)
  await app.register(testSendRoutes)
  await app.register(auditRoutes)
  await app.register(channelRoutes)
}
