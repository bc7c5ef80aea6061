import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { errors } from '../errors.js'
import { takeHttpCallback } from '../launch/target-runs.js'
import { recordJobOutcome } from '../launch/job-tracker.js'

interface JobEvent {
  Type?: string
  Job?: { Id?: number, Key?: string, State?: string, Info?: string | null, OutputArguments?: Record<string, unknown> | string | null, EndTime?: string | null }
}

const HANDLED = new Set(['job.completed', 'job.faulted', 'job.stopped'])

/** X-UiPath-Signature: Base64(HMAC-SHA256(raw body, the webhook secret)), compared in constant time. */
export function validUiPathSignature (raw: Buffer, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false
  const expected = createHmac('sha256', secret).update(raw).digest()
  const given = Buffer.from(header.trim(), 'base64')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export default async function webhookRoutes (app: FastifyInstance): Promise<void> {
  // The signature covers the bytes as sent: keep them.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => { done(null, body) })

  app.post('/webhooks/orchestrator/:connectionId', {
    schema: {
      tags: ['ingress'],
      summary: 'Orchestrator job events (job.completed, job.faulted, job.stopped)',
      description: 'Register this URL (the connection\'s webhookUrl) as an Orchestrator webhook with the connection\'s webhookSecret. Other event types are acknowledged and ignored.',
      params: Type.Object({ connectionId: Type.String({ format: 'uuid' }) }),
      response: {
        200: Type.Object({ handled: Type.Boolean(), launch: Type.Optional(Type.String()) }),
        401: Type.Ref('ErrorBody'),
        404: Type.Ref('ErrorBody')
      }
    }
  }, async (request) => {
    const { connectionId } = request.params as { connectionId: string }
    const connection = await app.db.selectFrom('orchestrator_connections').select(['tenant_id', 'webhook_secret_enc']).where('id', '=', connectionId).executeTakeFirst()
    if (connection === undefined) throw new errors.NotFound('unknown Orchestrator connection')
    if (connection.webhook_secret_enc === null) throw new errors.Unauthorized('this connection has no webhookSecret: set one with PUT /api/v1/orchestrator and in the Orchestrator webhook')
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const signature = request.headers['x-uipath-signature']
    if (!validUiPathSignature(raw, app.secrets.open(connection.webhook_secret_enc), Array.isArray(signature) ? signature[0] : signature)) {
      throw new errors.Unauthorized('the X-UiPath-Signature does not match the connection webhookSecret')
    }
    let event: JobEvent
    try {
      event = JSON.parse(raw.toString('utf8')) as JobEvent
    } catch {
      throw new errors.BadRequest('the body is not JSON')
    }
    if (!HANDLED.has(event.Type ?? '') || event.Job === undefined) return { handled: false }
    const job = event.Job
    const launch = await app.db.selectFrom('launches').select('id').where('tenant_id', '=', connection.tenant_id)
      .where((eb) => eb.or([
        ...(job.Key !== undefined ? [eb('job_key', '=', job.Key)] : []),
        ...(job.Id !== undefined ? [eb('job_id', '=', job.Id)] : [])
      ])).executeTakeFirst()
    // A job mailrun did not start (or already finished): acknowledged, nothing to do.
    if (launch === undefined || job.State === undefined) return { handled: false }
    const finished = await recordJobOutcome(app.outcomeDeps, launch.id, { State: job.State, Info: job.Info ?? null, OutputArguments: job.OutputArguments ?? null, EndTime: job.EndTime ?? null })
    return { handled: finished, launch: launch.id }
  })

  app.post('/webhooks/http/:connectionId', {
    schema: {
      tags: ['ingress'],
      summary: 'An HTTP target reports a run\'s end ({launchId, status, outputs, info}, signed)',
      description: 'The connection\'s callbackUrl. Signed per the Standard Webhooks specification with the connection\'s signing secret (webhook-id, webhook-timestamp within 5 minutes, webhook-signature). status: completed, faulted or stopped (running is acknowledged and changes nothing). Safe to send again: a launch finishes once.',
      params: Type.Object({ connectionId: Type.String({ format: 'uuid' }) }),
      response: {
        200: Type.Object({ handled: Type.Boolean(), launch: Type.Optional(Type.String()) }),
        400: Type.Ref('ErrorBody'),
        401: Type.Ref('ErrorBody'),
        404: Type.Ref('ErrorBody')
      }
    }
  }, async (request) => {
    const { connectionId } = request.params as { connectionId: string }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const answer = await takeHttpCallback({ ...app.outcomeDeps, secrets: app.secrets }, connectionId, request.headers, raw)
    if (answer.status === 200) return answer.body
    if (answer.status === 401) throw new errors.Unauthorized(answer.message)
    if (answer.status === 404) throw new errors.NotFound(answer.message)
    throw new errors.BadRequest(answer.message)
  })
}
