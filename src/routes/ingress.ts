import type { FastifyInstance, FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import { Type } from '@sinclair/typebox'
import { sql } from 'kysely'
import { errors, tooManyFailures } from '../errors.js'
import { ProblemSchema } from '../schemas/common.js'
import { FormFields, parseUrlEncoded, readMultipart } from '../ingress/form-fields.js'
import { readBody } from '../ingress/read-body.js'
import type { IncomingMessage } from 'node:http'
import { mailgunToInbound, verifyMailgunSignature } from '../ingress/mailgun.js'
import { checkBasicAuth, sendgridToInbound } from '../ingress/sendgrid.js'
import type { InboundMail, TargetMailbox } from '../pipeline/inbound-mail.js'
import type { AfterStore, ReceiveResult } from '../pipeline/receive.js'
import { dedupeKey } from '../pipeline/receive.js'
import { lingerOnClose } from '../ingress/linger-close.js'
import type { IngressMailbox } from '../ingress/ingress-mailboxes.js'

// The doors mail providers push to. Each is a thin adapter: check the delivery's own credential,
// turn it into one InboundMail, hand it to receive(). Answers follow what providers do with them:
// 200 once stored, whatever the outcome; 401 for a bad credential; 413 over size; 503 when the
// message could not be stored, so the provider retries. Never a 4xx for a fault of ours.

type MailboxRow = IngressMailbox

class NotStored extends Error {}

/** An answer given before the body is read (unknown token, missing credential). */
class EarlyAnswer extends Error {
  constructor (readonly status: number, readonly body: Record<string, unknown>, readonly retryAfterS?: number) {
    super(String(body.message ?? body.reason ?? status))
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    ingressMailbox?: MailboxRow
  }
}

const Answer = Type.Object({
  message: Type.Optional(Type.String({ format: 'uuid' })),
  status: Type.Union(['accepted', 'duplicate', 'rejected', 'ignored'].map((s) => Type.Literal(s))),
  reason: Type.Optional(Type.String()),
  problems: Type.Optional(Type.Array(ProblemSchema)),
  launch: Type.Optional(Type.Object({
    id: Type.String(),
    state: Type.String(),
    jobId: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    jobKey: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    reason: Type.Optional(Type.String())
  }))
}, { $id: 'InboundAnswer' })

const TokenParams = Type.Object({ ingressToken: Type.String({ minLength: 1, maxLength: 200 }) })

export default async function ingressRoutes (app: FastifyInstance): Promise<void> {
  const limit = app.config.maxMessageBytes
  const tooLarge = `the message is larger than ${limit} bytes (MAILRUN_MAX_MESSAGE_BYTES)`

  // Raw bytes everywhere: the default parsers would decode 8-bit MIME as UTF-8 or leave it
  // percent-encoded. @fastify/formbody is not used for the same reason.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(['message/rfc822', 'application/octet-stream', 'text/plain', 'application/x-www-form-urlencoded'], async (request: FastifyRequest, payload: IncomingMessage) => {
    const length = Number(request.headers['content-length'])
    return await readBody(payload, Number.isSafeInteger(length) && length >= 0 ? length : null, limit, tooLarge)
  })
  await app.register(multipart, { defCharset: 'latin1', limits: { fieldSize: limit, fileSize: limit, fields: 2000, files: 100, parts: 2100, fieldNameSize: 200 } })
  app.addSchema(Answer)

  app.addHook('onRequest', async (request) => {
    const length = Number(request.headers['content-length'] ?? 0)
    // Multipart is streamed past Fastify's bodyLimit; refuse what cannot fit before reading it.
    if (length > limit + 1024 * 1024) throw new errors.PayloadTooLarge(tooLarge)
  })

  async function findMailbox (token: string): Promise<MailboxRow | null> {
    return await app.ingressMailboxes.find(token)
      .catch((error: unknown) => { throw new NotStored('the database is unreachable', { cause: error }) })
  }

  async function readForm (request: FastifyRequest): Promise<FormFields> {
    if (request.isMultipart()) return await readMultipart(request, limit)
    if (Buffer.isBuffer(request.body)) return parseUrlEncoded(request.body)
    throw new errors.BadRequest('expected multipart/form-data or application/x-www-form-urlencoded')
  }

  async function deliver (mailbox: TargetMailbox, mail: InboundMail, afterStore?: AfterStore): Promise<ReceiveResult> {
    const started = process.hrtime.bigint()
    try {
      return await app.receiver.receive(mailbox, mail, afterStore)
    } catch (error) {
      throw new NotStored('the message could not be stored', { cause: error })
    } finally {
      app.appMetrics.receiveSeconds.observe({ door: mail.door }, Number(process.hrtime.bigint() - started) / 1e9)
    }
  }

  app.setErrorHandler((error: Error & { statusCode?: number, code?: string }, request, reply) => {
    // The body was not read: close the connection rather than drain it (lingering, so the
    // sender reads the answer).
    if (error instanceof EarlyAnswer) {
      lingerOnClose(request.raw)
      if (error.retryAfterS !== undefined) reply.header('retry-after', String(error.retryAfterS))
      return reply.status(error.status).header('connection', 'close').send(error.body)
    }
    if (error instanceof NotStored) {
      request.log.error({ err: error.cause ?? error }, error.message)
      return reply.status(503).header('retry-after', '60').send({ statusCode: 503, code: 'MAILRUN_ERR_NOT_STORED', message: `${error.message}; retry later`, requestId: request.id })
    }
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.code === 'FST_REQ_FILE_TOO_LARGE' || error.code === 'FST_FILES_LIMIT' || error.code === 'FST_PARTS_LIMIT' || error.code === 'FST_FIELDS_LIMIT') {
      // The rest of the body is never read: close the connection instead of draining it.
      lingerOnClose(request.raw)
      return reply.status(413).header('connection', 'close').send({ statusCode: 413, code: 'MAILRUN_ERR_PAYLOAD_TOO_LARGE', message: error.code === 'MAILRUN_ERR_PAYLOAD_TOO_LARGE' ? error.message : tooLarge })
    }
    throw error
  })

  /**
   * Everything that needs no body, checked before the body is read: the token (the door's first
   * credential) and, per door, a credential outside the body. A guessed token or a missing key
   * costs a lookup, never the reading of a large post.
   */
  const identify = (door: 'mime' | 'mailgun' | 'sendgrid') => async (request: FastifyRequest) => {
    // Guessing tokens must be slow: an address with too many failed credentials waits.
    const wait = app.failures.blocked(request.ip)
    if (wait !== null) throw new EarlyAnswer(429, { statusCode: 429, code: 'MAILRUN_ERR_RATE_LIMITED', message: tooManyFailures(wait).message }, wait)
    const { ingressToken } = request.params as { ingressToken: string }
    const mailbox = await findMailbox(ingressToken)
    if (mailbox === null) {
      app.failures.fail(request.ip)
      if (door === 'mime') throw new EarlyAnswer(404, { statusCode: 404, code: 'MAILRUN_ERR_NOT_FOUND', message: 'unknown ingress token: copy the mime URL from the mailbox (POST /api/v1/mailboxes answers it; rotate-token issues a new one)' })
      // 406 tells Mailgun to stop retrying; anything else 4xx it would retry for hours.
      if (door === 'mailgun') throw new EarlyAnswer(406, { statusCode: 406, code: 'MAILRUN_ERR_UNKNOWN_MAILBOX', message: 'unknown ingress token' })
      // SendGrid drops mail on any 4xx; an unknown mailbox has nowhere for the mail to go anyway.
      throw new EarlyAnswer(200, { status: 'ignored', reason: 'unknown ingress token' })
    }
    if (door === 'sendgrid' && mailbox.sendgridUsername !== null && mailbox.sendgridPasswordEnc !== null &&
      !checkBasicAuth(request.headers.authorization, mailbox.sendgridUsername, app.secrets.open(mailbox.sendgridPasswordEnc))) {
      app.failures.fail(request.ip)
      throw new EarlyAnswer(401, { statusCode: 401, code: 'MAILRUN_ERR_UNAUTHORIZED', message: 'wrong or missing basic auth: put the user name and password set on the mailbox in the Inbound Parse URL' })
    }
    if (door === 'mailgun' && mailbox.mailgunSigningKeyEnc === null) {
      throw new EarlyAnswer(401, { statusCode: 401, code: 'MAILRUN_ERR_UNAUTHORIZED', message: 'this mailbox has no Mailgun signing key: set mailgunSigningKey on the mailbox' })
    }
    request.ingressMailbox = mailbox
  }

  const identified = (request: FastifyRequest): MailboxRow => {
    if (request.ingressMailbox === undefined) throw new Error('the mailbox was not identified before the body')
    return request.ingressMailbox
  }

  const schema = (summary: string, description: string) => ({
    tags: ['ingress'],
    summary,
    description,
    params: TokenParams,
    response: { 200: Type.Ref('InboundAnswer'), 400: Type.Ref('ErrorBody'), 401: Type.Ref('ErrorBody'), 404: Type.Ref('ErrorBody'), 406: Type.Ref('ErrorBody'), 413: Type.Ref('ErrorBody'), 429: Type.Ref('ErrorBody'), 503: Type.Ref('ErrorBody') }
  })

  app.post('/inbound/:ingressToken/mime', {
    schema: schema('Raw RFC 822 message (MTA pipe or any provider that posts raw MIME)', 'Body: the message itself, as message/rfc822, application/octet-stream or text/plain. The ingress token in the path is the credential.'),
    preParsing: async (request) => { await identify('mime')(request) }
  }, async (request) => {
    const mailbox = identified(request)
    const raw = request.body
    if (!Buffer.isBuffer(raw) || raw.length === 0) throw new errors.BadRequest('the body must be the raw message (Content-Type: message/rfc822)')
    return await deliver(mailbox, { door: 'mime', raw, rawIsOriginal: true, envelopeFrom: null, provider: null })
  })

  app.post('/inbound/:ingressToken/mailgun', {
    schema: schema('Mailgun route forward()', 'Parsed fields or body-mime, as multipart/form-data or application/x-www-form-urlencoded. Verified with the mailbox Mailgun signing key (HMAC-SHA256 of timestamp + token), a single-use token and the timestamp window. An unknown or inactive mailbox answers 406 so Mailgun stops retrying.'),
    preParsing: async (request) => { await identify('mailgun')(request) }
  }, async (request, reply) => {
    const mailbox = identified(request)
    const fields = await readForm(request)
    const check = verifyMailgunSignature(fields, app.secrets.open(mailbox.mailgunSigningKeyEnc ?? ''), app.config.mailgunMaxAgeSeconds)
    if (!check.ok) {
      app.failures.fail(request.ip)
      throw new errors.Unauthorized(check.reason)
    }
    const mail = mailgunToInbound(fields)

    const seen = await app.db.selectFrom('mailgun_tokens').innerJoin('messages', 'messages.id', 'mailgun_tokens.message_id')
      .select(['messages.id', 'messages.mailbox_id', 'messages.dedupe_key']).where('mailgun_tokens.token', '=', check.token).executeTakeFirst()
      .catch((error: unknown) => { throw new NotStored('the database is unreachable', { cause: error }) })
    if (seen !== undefined) {
      // Mailgun's own retry of a message we stored carries the same token: a duplicate. The same
      // token on another body is a replay (the signature does not cover the body).
      if (seen.mailbox_id === mailbox.id && seen.dedupe_key === await dedupeKey(mail.raw)) return { message: seen.id, status: 'duplicate', reason: 'this message was already received' }
      throw new errors.Unauthorized('this Mailgun token was already used for another message (replay)')
    }
    if (!mailbox.active) {
      await deliver(mailbox, mail)
      return await reply.status(406).send({ statusCode: 406, code: 'MAILRUN_ERR_INACTIVE_MAILBOX', message: 'the mailbox is inactive' })
    }
    const expiresAt = new Date((check.timestamp + app.config.mailgunMaxAgeSeconds) * 1000)
    return await deliver(mailbox, mail, async (trx, messageId) => {
      // Marked used only once the message is stored: a delivery that failed to store can be retried.
      await trx.insertInto('mailgun_tokens').values({ token: check.token, expires_at: expiresAt, message_id: messageId }).execute()
      await trx.deleteFrom('mailgun_tokens').where('expires_at', '<', sql<Date>`now()`).execute()
    })
  })

  app.post('/inbound/:ingressToken/sendgrid', {
    schema: schema('SendGrid Inbound Parse', 'Default (parsed fields) or raw (the email field), multipart/form-data. Optional basic auth: set sendgridBasicAuth on the mailbox and put user:password@ in the destination URL.'),
    preParsing: async (request) => { await identify('sendgrid')(request) }
  }, async (request) => {
    const mailbox = identified(request)
    const fields = await readForm(request)
    return await deliver(mailbox, sendgridToInbound(fields))
  })
}
