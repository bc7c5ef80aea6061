import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export const apiInfo = {
  title: 'mailrun',
  description: 'Launch UiPath Orchestrator robots by email. Admin API, ingress doors and operations endpoints.',
  version: '0.1.0'
}

export default fp(async function openapi (app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: apiInfo,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An instance-admin or tenant API key.' }
        }
      },
      tags: [
        { name: 'tenants', description: 'Instance admin: tenants and their API keys' },
        { name: 'orchestrator', description: "Tenant: the tenant's UiPath Orchestrator connection" },
        { name: 'connections', description: 'Tenant: where robots are launched (the UiPath connection and signed HTTP targets)' },
        { name: 'mailboxes', description: 'Tenant: service mailboxes (one per licence) and their ingress URLs' },
        { name: 'senders', description: 'Tenant: the people allowed to launch robots' },
        { name: 'robots', description: 'Tenant: robots, their declared functions and parameters, and who may run them' },
        { name: 'activity', description: 'Tenant: messages that arrived and launches that followed' },
        { name: 'users', description: 'Tenant: people who sign in to the web console' },
        { name: 'notification-channels', description: 'Tenant: where the team is told of faulted jobs, failing mailboxes and digests' },
        { name: 'audit', description: 'Tenant and instance admin: who changed what, and when' },
        { name: 'ingress', description: 'The doors mail providers push messages to' },
        { name: 'operations', description: 'Health, readiness and metrics' }
      ]
    },
    // Shared schemas keep their $id as their component name instead of def-N.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  // Its own Content-Security-Policy (its page loads only its own files; its script injects one
  // style element, so inline styles, never scripts, are allowed here): the plugin's default adds
  // upgrade-insecure-requests, which breaks /docs on a plain-http address, and an outside image host.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'"
  })
}, { name: 'openapi' })
