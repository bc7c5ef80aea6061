import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { isMailboxAddress } from './mail/address.js'
import type { DNSResolver } from 'mailauth'
import type { SecretBox } from './crypto/secret-box.js'
import ingressRoutes from './routes/ingress.js'
import graphRoutes from './routes/graph.js'
import webhookRoutes from './routes/webhooks.js'
import { ErrorBody } from './schemas/common.js'
import type { DatabaseHandle } from './db/database.js'
import errorHandler from './plugins/error-handler.js'
import consolePlugin from './console/index.js'
import services from './plugins/services.js'
import securityHeaders from './plugins/security-headers.js'
import openapi from './plugins/swagger.js'
import healthRoutes from './routes/health.js'
import metricsRoutes from './routes/metrics.js'
import adminApi from './routes/admin/index.js'
import auth from './plugins/auth.js'
import auditTrail from './plugins/audit-trail.js'

export interface AppDeps {
  config: Config
  database: DatabaseHandle
  logger: FastifyBaseLogger
  secrets: SecretBox
  dnsResolver?: DNSResolver
}

/** Believe this many proxies in front (the nearest hops), as proxy-addr counts them. */
function trustHops (hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}

const PROBES = new Set(['/healthz', '/readyz', '/metrics'])
const isProbe = (url: string): boolean => PROBES.has(url.split('?')[0] ?? '')

export async function buildApp (deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Off unless the operator says which proxies to believe: else any client picks its own address.
    trustProxy: typeof deps.config.trustProxy === 'number' ? trustHops(deps.config.trustProxy) : deps.config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true, formats: { 'idn-email': isMailboxAddress } } },
    // Health probes and scrapes arrive every few seconds: logged at debug (below), not at info.
    logController: new LogController({ disableRequestLogging: (request) => isProbe(request.url) }),
    // The response serializer picks anyOf branches with an Ajv of its own: it must know the format too.
    serializerOpts: { ajv: { formats: { 'idn-email': isMailboxAddress } } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onResponse', async (request, reply) => {
    if (isProbe(request.url)) request.log.debug({ url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'probe answered')
  })
  await app.register(services, deps)
  await app.register(errorHandler)
  await app.register(securityHeaders)
  app.addSchema(ErrorBody)
  await app.register(openapi)
  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  await app.register(auth)
  await app.register(auditTrail)
  await app.register(adminApi)
  await app.register(ingressRoutes)
  await app.register(webhookRoutes)
  await app.register(graphRoutes)
  await app.register(consolePlugin)
  return app
}
