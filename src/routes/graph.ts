import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { errors } from '../errors.js'

// Where Microsoft Graph posts change and lifecycle notifications for the mailboxes it watches.
// Creating a subscription makes Graph post `?validationToken=…` first: echoed as text/plain.
// Each notification proves itself with its subscription's clientState; the rest is the watcher's.

const ValidationQuery = Type.Object({ validationToken: Type.Optional(Type.String({ maxLength: 2048 })) })

export default async function graphRoutes (app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => { done(null, body) })

  const handle = (kind: 'notifications' | 'lifecycle') => async (request: FastifyRequest, reply: FastifyReply) => {
    const { validationToken } = request.query as { validationToken?: string }
    if (validationToken !== undefined) return await reply.status(200).type('text/plain; charset=utf-8').send(validationToken)
    let body: unknown
    try {
      body = JSON.parse((request.body as Buffer | undefined)?.toString('utf8') ?? '')
    } catch {
      throw new errors.BadRequest('the body is not a JSON change-notification collection')
    }
    const result = await app.graph[kind](body)
    return await reply.status(202).send(result)
  }

  const schema = (summary: string) => ({
    tags: ['ingress'],
    summary,
    description: 'Used by Microsoft Graph for mailboxes with graph settings (docs/providers.md). With validationToken: answers it as text/plain.',
    querystring: ValidationQuery,
    response: {
      200: Type.String({ description: 'The validation token, echoed.' }),
      202: Type.Object({ accepted: Type.Integer(), refused: Type.Integer({ description: 'Unknown subscription or wrong clientState: ignored.' }) }),
      400: Type.Ref('ErrorBody')
    }
  })
  app.post('/graph/notifications', { schema: schema('Microsoft Graph change notifications (new messages)') }, handle('notifications'))
  app.post('/graph/lifecycle', { schema: schema('Microsoft Graph lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)') }, handle('lifecycle'))
}
