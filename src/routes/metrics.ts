import type { FastifyInstance } from 'fastify'

export default async function metricsRoutes (app: FastifyInstance): Promise<void> {
  app.get('/metrics', {
    schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)' }
  }, async (_request, reply) => {
    const text = await app.metrics.metrics()
    return await reply.type(app.metrics.contentType).send(text)
  })
}
