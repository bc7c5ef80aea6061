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
        { name: 'operations', description: 'Health, readiness and metrics' }
      ]
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'openapi' })
