import type { FastifyInstance } from 'fastify'
import { render, userOf } from '../context.js'

export default async function dashboardPages (app: FastifyInstance): Promise<void> {
  app.get('/console', async (request, reply) => {
    const dashboard = await app.resources.dashboard.read(userOf(request).tenantId)
    return await render(request, reply, 'dashboard.eta', { dashboard })
  })
}
