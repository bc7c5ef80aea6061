import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Config } from '../config.js'
import type { SecretBox } from '../crypto/secret-box.js'
import { outboundDispatcher } from '../net/outbound-dispatcher.js'
import { createOrchestratorRegistry, type OrchestratorRegistry } from '../orchestrator/registry.js'
import type { DatabaseHandle } from '../db/database.js'
import type { Database } from '../db/schema.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Kysely<Database>
    database: DatabaseHandle
    metrics: Registry
    secrets: SecretBox
    orchestrator: OrchestratorRegistry
  }
}

export interface ServiceDeps {
  config: Config
  database: DatabaseHandle
  secrets: SecretBox
}

// A registry per app rather than prom-client's global one, so several apps (tests, replicas
// in one process) never register the same metric twice.
export default fp(async function services (app: FastifyInstance, deps: ServiceDeps) {
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics, prefix: 'mailrun_' })
  app.decorate('config', deps.config)
  app.decorate('database', deps.database)
  app.decorate('db', deps.database.db)
  app.decorate('metrics', metrics)
  app.decorate('secrets', deps.secrets)
  const dispatcher = outboundDispatcher(deps.config.outboundDeny)
  app.decorate('orchestrator', createOrchestratorRegistry({ dispatcher, deny: deps.config.outboundDeny }))
  app.addHook('onClose', async () => { await dispatcher.close() })
}, { name: 'services' })
