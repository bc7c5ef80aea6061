import type { FastifyInstance, FastifyRequest } from 'fastify'
import { userOf } from '../context.js'

// What every signed-in user may change about themselves, viewers included: their language.

export default async function accountPages (app: FastifyInstance): Promise<void> {
  app.post('/console/account/language', async (request: FastifyRequest<{ Body: Record<string, string | undefined> }>, reply) => {
    const user = userOf(request)
    const locale = request.body.locale === 'ru' ? 'ru' : 'en'
    await app.resources.users.update(user.tenantId, user.id, { locale })
    const back = request.headers.referer !== undefined ? new URL(request.headers.referer, 'http://x').pathname : '/console'
    return await reply.redirect(back.startsWith('/console') ? back : '/console', 303)
  })
}
