import type { FastifyInstance } from 'fastify'
import { missedCanaries } from '../canary/canary-watch.js'
import { Type } from '@sinclair/typebox'
import { checkDatabase } from '../db/health.js'
import { countStuck } from '../pipeline/undecided.js'

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  reason: Type.Optional(Type.String())
}, { $id: 'Health' })

export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Health } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      tags: ['operations'],
      summary: 'Ready to take traffic: the database answers, its migrations are current, no stored message has waited more than 5 minutes undecided, no IMAP mailbox this instance watches has stalled, and no mailbox\'s latest canary was missed',
      response: { 200: Health, 503: Health }
    }
  }, async (_request, reply) => {
    const health = await checkDatabase(app.db)
    if (!health.ok) return await reply.status(503).send({ status: 'unavailable' as const, reason: health.reason })
    const stuck = await countStuck(app.db)
    if (stuck > 0) {
      return await reply.status(503).send({ status: 'unavailable' as const, reason: `${stuck} message${stuck === 1 ? '' : 's'} stored more than 5 minutes ago ${stuck === 1 ? 'is' : 'are'} still not processed; see GET /api/v1/messages?status=received and the log` })
    }
    const stalled = await app.sweeper.stalled()
    if (stalled.length > 0) {
      return await reply.status(503).send({ status: 'unavailable' as const, reason: `IMAP sweep stalled (no successful sweep in twice MAILRUN_SWEEP_INTERVAL_S) for mailbox ${stalled.join(', ')}; see imapStatus.lastError on the mailbox` })
    }
    const missed = (await missedCanaries(app.db)).map((m) => m.address)
    if (missed.length > 0) {
      return await reply.status(503).send({ status: 'unavailable' as const, reason: `the canary of ${missed.join(', ')} was not found by its deadline: mail to ${missed.length === 1 ? 'it' : 'them'} may not reach mailrun (see canaryStatus on the mailbox)` })
    }
    return { status: 'ok' as const }
  })
}
