import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Insertable, Selectable, Updateable } from 'kysely'
import { ingressUrls, newIngressToken } from '../../admin/ingress-token.js'
import { isUniqueViolation } from '../../db/errors.js'
import { newestFirst } from '../../db/pagination.js'
import type { ImapSettings, MailboxesTable, SmtpSettings } from '../../db/schema.js'
import { errors, fieldError } from '../../errors.js'
import { assertHostAllowed, OutboundDenied } from '../../net/outbound-guard.js'
import { tenantOf } from '../../plugins/auth.js'
import { storedAddress } from '../../mail/address.js'
import { errorResponses, IdParams, ListQuery, marker, Nullable, Page, SecretMarker, Timestamp, Uuid } from '../../schemas/common.js'

const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/:@]+$|^\\[[0-9a-fA-F:]+\\]$' })
const Port = Type.Integer({ minimum: 1, maximum: 65535 })
const SenderAuth = Type.Union([Type.Literal('dmarc'), Type.Literal('provider'), Type.Literal('off')], {
  description: 'dmarc: DMARC pass or aligned DKIM pass (default). provider: trust the provider verdicts or the Authentication-Results of trustedAuthservId. off: allow-list only (not recommended).'
})

const ImapInput = Type.Object({
  host: Host,
  port: Type.Optional({ ...Port, description: 'Default 993.' }),
  tls: Type.Optional(Type.Boolean({ description: 'true (default): TLS from the start (port 993); false: plain, upgraded with STARTTLS when offered.' })),
  user: Type.String({ minLength: 1 }),
  password: Type.Optional(Type.String({ minLength: 1, description: 'Write-only. An app password for Gmail, Yandex and Mail.ru. On update, omit it to keep the stored one.' })),
  folders: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Folders to sweep besides INBOX and the \\Junk folder (default none).' }))
}, { additionalProperties: false })

const SmtpInput = Type.Object({
  host: Host,
  port: Type.Optional({ ...Port, description: 'Default 465.' }),
  tls: Type.Optional(Type.Boolean({ description: 'true (default): TLS from the start (port 465); false: STARTTLS when offered (port 587).' })),
  user: Type.Optional(Nullable(Type.String())),
  password: Type.Optional(Type.String({ minLength: 1, description: 'Write-only. On update, omit it to keep the stored one.' })),
  fromName: Type.Optional(Nullable(Type.String({ maxLength: 200 })))
}, { additionalProperties: false })

const SendgridBasicAuth = Type.Object({
  username: Type.String({ minLength: 1 }),
  password: Type.String({ minLength: 1, description: 'Write-only.' })
}, { additionalProperties: false })

const mailboxFields = {
  address: Type.String({ format: 'idn-email', maxLength: 254, description: 'The service mailbox senders write to. Unique across the instance.' }),
  active: Type.Boolean({ default: true }),
  senderAuth: SenderAuth,
  trustedAuthservId: Nullable(Type.String({ maxLength: 253, description: 'With senderAuth provider: the authserv-id whose Authentication-Results header is trusted (IMAP mail).' })),
  mailgunSigningKey: Nullable(Type.String({ minLength: 1, description: 'Write-only. The Mailgun HTTP webhook signing key.' })),
  sendgridBasicAuth: Nullable(SendgridBasicAuth),
  imap: Nullable(ImapInput),
  smtp: Nullable(SmtpInput)
}

const createExample = {
  address: 'robots@acme.example',
  senderAuth: 'dmarc',
  mailgunSigningKey: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
  imap: { host: 'imap.gmail.com', port: 993, tls: true, user: 'robots@acme.example', password: 'abcd efgh ijkl mnop', folders: [] },
  smtp: { host: 'smtp.gmail.com', port: 465, tls: true, user: 'robots@acme.example', password: 'abcd efgh ijkl mnop', fromName: 'Acme robots' }
}

const MailboxCreate = Type.Object({
  address: mailboxFields.address,
  active: Type.Optional(mailboxFields.active),
  senderAuth: Type.Optional({ ...SenderAuth, default: 'dmarc' }),
  trustedAuthservId: Type.Optional(mailboxFields.trustedAuthservId),
  mailgunSigningKey: Type.Optional(mailboxFields.mailgunSigningKey),
  sendgridBasicAuth: Type.Optional(mailboxFields.sendgridBasicAuth),
  imap: Type.Optional(mailboxFields.imap),
  smtp: Type.Optional(mailboxFields.smtp)
}, { additionalProperties: false, examples: [createExample] })

const MailboxPatch = Type.Partial(Type.Object(mailboxFields), {
  additionalProperties: false, minProperties: 1, examples: [{ senderAuth: 'provider', imap: { host: 'imap.yandex.ru', user: 'robots@acme.example', password: 'app-password' } }]
})

const IngressUrls = Type.Object({
  mime: Type.String({ description: 'Raw RFC 822 (an MTA pipe, or any provider that posts raw MIME).' }),
  mailgun: Type.String({ description: 'Mailgun route forward() target; append "mime" is not needed: both forms are accepted.' }),
  sendgrid: Type.String({ description: 'SendGrid Inbound Parse destination URL.' })
})

const mailboxExample = {
  id: '9f5b3c1a-7d2e-4b8f-a6c4-1e2d3f4a5b6c',
  address: 'robots@acme.example',
  active: true,
  senderAuth: 'dmarc',
  trustedAuthservId: null,
  mailgunSigningKey: { set: true },
  sendgridBasicAuth: null,
  imap: { host: 'imap.gmail.com', port: 993, tls: true, user: 'robots@acme.example', password: { set: true }, folders: [] },
  imapStatus: { configuredAt: '2026-11-23T10:00:00.000Z', lastSweptAt: null, lastError: null, lastErrorAt: null },
  smtp: { host: 'smtp.gmail.com', port: 465, tls: true, user: 'robots@acme.example', password: { set: true }, fromName: 'Acme robots' },
  warnings: [],
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z'
}

const Mailbox = Type.Object({
  id: Uuid,
  address: Type.String(),
  active: Type.Boolean(),
  senderAuth: SenderAuth,
  trustedAuthservId: Nullable(Type.String()),
  mailgunSigningKey: SecretMarker,
  sendgridBasicAuth: Nullable(Type.Object({ username: Type.String(), password: SecretMarker })),
  imap: Nullable(Type.Object({ host: Type.String(), port: Port, tls: Type.Boolean(), user: Type.String(), password: SecretMarker, folders: Type.Array(Type.String()) })),
  imapStatus: Type.Object({ configuredAt: Nullable(Timestamp), lastSweptAt: Nullable(Timestamp), lastError: Nullable(Type.String()), lastErrorAt: Nullable(Timestamp) }),
  smtp: Nullable(Type.Object({ host: Type.String(), port: Port, tls: Type.Boolean(), user: Nullable(Type.String()), password: SecretMarker, fromName: Nullable(Type.String()) })),
  warnings: Type.Array(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [mailboxExample] })

const MailboxWithIngress = Type.Object({
  ...Mailbox.properties,
  ingressToken: Type.String({ description: 'Secret: part of the ingress URLs. Shown only on create and rotate.' }),
  ingressUrls: IngressUrls
}, {
  examples: [{
    ...mailboxExample,
    ingressToken: 'q9XbV1c2...',
    ingressUrls: { mime: 'https://mailrun.acme.example/inbound/q9XbV1c2.../mime', mailgun: 'https://mailrun.acme.example/inbound/q9XbV1c2.../mailgun', sendgrid: 'https://mailrun.acme.example/inbound/q9XbV1c2.../sendgrid' }
  }]
})

type MailboxRow = Selectable<MailboxesTable>

function present (row: MailboxRow): Static<typeof Mailbox> {
  const imap = row.imap as ImapSettings | null
  const smtp = row.smtp as SmtpSettings | null
  const warnings: string[] = []
  if (row.sender_auth === 'off') warnings.push('senderAuth is off: anyone who forges the From address of an allowed sender can launch robots. Use dmarc or provider.')
  if (row.sender_auth === 'provider' && row.trusted_authserv_id === null && imap !== null) warnings.push('senderAuth is provider but trustedAuthservId is not set: mail found by the IMAP sweep cannot be authenticated and will be rejected.')
  if (row.sender_auth === 'provider' && row.trusted_authserv_id !== null) {
    warnings.push(`senderAuth is provider: mailrun trusts the topmost Authentication-Results header from ${row.trusted_authserv_id}. Unless that server removes incoming Authentication-Results headers carrying its own name (RFC 8601 section 5), a sender can forge "dmarc=pass". See "Trusting your MTA" in the README, or use dmarc.`)
  }
  return {
    id: row.id,
    address: row.address,
    active: row.active,
    senderAuth: row.sender_auth,
    trustedAuthservId: row.trusted_authserv_id,
    mailgunSigningKey: marker(row.mailgun_signing_key_enc),
    sendgridBasicAuth: row.sendgrid_username === null ? null : { username: row.sendgrid_username, password: marker(row.sendgrid_password_enc) },
    imap: imap === null ? null : { ...imap, password: marker(row.imap_password_enc) },
    imapStatus: {
      configuredAt: row.imap_configured_at?.toISOString() ?? null,
      lastSweptAt: row.imap_last_swept_at?.toISOString() ?? null,
      lastError: row.imap_last_error,
      lastErrorAt: row.imap_last_error_at?.toISOString() ?? null
    },
    smtp: smtp === null ? null : { ...smtp, password: marker(row.smtp_password_enc) },
    warnings,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

const mailboxTags = ['mailboxes']

const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.db
  const security = [{ bearer: [] }]
  const seal = (value: string): string => app.secrets.seal(value)

  app.addHook('onRequest', app.requireTenant)

  async function checkHost (field: string, host: string): Promise<void> {
    try {
      await assertHostAllowed(app.config.outboundDeny, host)
    } catch (error) {
      if (error instanceof OutboundDenied) throw fieldError(field, `may not be ${host}: ${error.message}`)
      throw error
    }
  }

  async function find (tenantId: string, id: string): Promise<MailboxRow> {
    const row = await db.selectFrom('mailboxes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (row === undefined) throw new errors.NotFound(`no mailbox ${id}`)
    return row
  }

  const addressTaken = (address: string) => new errors.Conflict(`the address ${address} is already registered (addresses are unique across the instance)`)

  /** The columns a body sets; `current` supplies stored passwords the body leaves out. */
  async function columnsFrom (body: Partial<Static<typeof MailboxPatch>>, current: MailboxRow | null): Promise<Updateable<MailboxesTable>> {
    const columns: Updateable<MailboxesTable> = {}
    if (body.address !== undefined) columns.address = storedAddress(body.address).toLowerCase()
    if (body.active !== undefined) columns.active = body.active
    if (body.senderAuth !== undefined) columns.sender_auth = body.senderAuth
    if (body.trustedAuthservId !== undefined) columns.trusted_authserv_id = body.trustedAuthservId
    if (body.mailgunSigningKey !== undefined) columns.mailgun_signing_key_enc = body.mailgunSigningKey === null ? null : seal(body.mailgunSigningKey)
    if (body.sendgridBasicAuth !== undefined) {
      columns.sendgrid_username = body.sendgridBasicAuth?.username ?? null
      columns.sendgrid_password_enc = body.sendgridBasicAuth === null ? null : seal(body.sendgridBasicAuth.password)
    }
    if (body.imap !== undefined) {
      if (body.imap === null) {
        Object.assign(columns, { imap: null, imap_password_enc: null, imap_configured_at: null, imap_last_error: null, imap_last_error_at: null })
      } else {
        await checkHost('imap.host', body.imap.host)
        if (body.imap.password === undefined && current?.imap_password_enc == null) throw fieldError('imap.password', 'is required')
        const settings: ImapSettings = { host: body.imap.host, port: body.imap.port ?? 993, tls: body.imap.tls ?? true, user: body.imap.user, folders: body.imap.folders ?? [] }
        // The sweep takes mail from this moment on (minus a look-back), so it is reset on every change.
        Object.assign(columns, {
          imap: JSON.stringify(settings),
          imap_password_enc: body.imap.password !== undefined ? seal(body.imap.password) : current?.imap_password_enc,
          imap_configured_at: new Date(),
          imap_last_error: null,
          imap_last_error_at: null
        })
      }
    }
    if (body.smtp !== undefined) {
      if (body.smtp === null) {
        Object.assign(columns, { smtp: null, smtp_password_enc: null })
      } else {
        await checkHost('smtp.host', body.smtp.host)
        const settings: SmtpSettings = { host: body.smtp.host, port: body.smtp.port ?? 465, tls: body.smtp.tls ?? true, user: body.smtp.user ?? null, fromName: body.smtp.fromName ?? null }
        if (settings.user !== null && body.smtp.password === undefined && current?.smtp_password_enc == null) throw fieldError('smtp.password', 'is required when smtp.user is set')
        Object.assign(columns, {
          smtp: JSON.stringify(settings),
          smtp_password_enc: body.smtp.password !== undefined ? seal(body.smtp.password) : (settings.user === null ? null : current?.smtp_password_enc)
        })
      }
    }
    return columns
  }

  app.post('/api/v1/mailboxes', {
    schema: {
      tags: mailboxTags,
      security,
      summary: 'Register a service mailbox (one per licence); answers its ingress URLs',
      body: MailboxCreate,
      response: { 201: MailboxWithIngress, ...errorResponses }
    }
  }, async (request, reply) => {
    const tenantId = tenantOf(request)
    const columns = await columnsFrom(request.body, null)
    const { token, hash } = newIngressToken()
    try {
      const row = await db.transaction().execute(async (trx) => {
        // Locking the tenant row serialises concurrent creates, so the licence count holds.
        const tenant = await trx.selectFrom('tenants').select(['max_mailboxes', 'name']).where('id', '=', tenantId).forUpdate().executeTakeFirstOrThrow()
        const used = await trx.selectFrom('mailboxes').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
        if (Number(used.n) >= tenant.max_mailboxes) {
          throw new errors.Conflict(`licence limit reached: tenant "${tenant.name}" may have ${tenant.max_mailboxes} service mailbox(es) and has ${used.n}. Delete one, or ask the instance admin to raise maxMailboxes.`)
        }
        return await trx.insertInto('mailboxes').values({
          ...columns as Insertable<MailboxesTable>, tenant_id: tenantId, address: storedAddress(request.body.address).toLowerCase(), ingress_token_hash: hash
        }).returningAll().executeTakeFirstOrThrow()
      })
      return await reply.status(201).send({ ...present(row), ingressToken: token, ingressUrls: ingressUrls(app.config.publicUrl, token) })
    } catch (error) {
      if (isUniqueViolation(error)) throw addressTaken(request.body.address)
      throw error
    }
  })

  app.get('/api/v1/mailboxes', {
    schema: { tags: mailboxTags, security, summary: 'List service mailboxes', querystring: Type.Object(ListQuery), response: { 200: Page(Mailbox), ...errorResponses } }
  }, async (request) => {
    const { items, nextCursor } = await newestFirst(db.selectFrom('mailboxes').selectAll().where('tenant_id', '=', tenantOf(request)), 'mailboxes', 'created_at', request.query, { box: app.secrets, tenantId: tenantOf(request) })
    return { items: items.map(present), nextCursor }
  })

  app.get('/api/v1/mailboxes/:id', {
    schema: { tags: mailboxTags, security, summary: 'Read a service mailbox', params: IdParams, response: { 200: Mailbox, ...errorResponses } }
  }, async (request) => present(await find(tenantOf(request), request.params.id)))

  app.patch('/api/v1/mailboxes/:id', {
    schema: { tags: mailboxTags, security, summary: 'Change a service mailbox (omitted secrets stay as they are; null clears)', params: IdParams, body: MailboxPatch, response: { 200: Mailbox, ...errorResponses } }
  }, async (request) => {
    const tenantId = tenantOf(request)
    const current = await find(tenantId, request.params.id)
    const columns = await columnsFrom(request.body, current)
    try {
      const row = await db.updateTable('mailboxes').set({ ...columns, updated_at: new Date() })
        .where('tenant_id', '=', tenantId).where('id', '=', request.params.id).returningAll().executeTakeFirstOrThrow()
      return present(row)
    } catch (error) {
      if (isUniqueViolation(error)) throw addressTaken(request.body.address ?? '')
      throw error
    }
  })

  app.delete('/api/v1/mailboxes/:id', {
    schema: { tags: mailboxTags, security, summary: 'Delete a service mailbox and its messages', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    const deleted = await db.deleteFrom('mailboxes').where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (deleted.numDeletedRows === 0n) throw new errors.NotFound(`no mailbox ${request.params.id}`)
    return await reply.status(204).send(null)
  })

  app.post('/api/v1/mailboxes/:id/rotate-token', {
    schema: {
      tags: mailboxTags,
      security,
      summary: 'Issue a new ingress token; the old ingress URLs stop working at once',
      params: IdParams,
      response: { 200: MailboxWithIngress, ...errorResponses }
    }
  }, async (request) => {
    const tenantId = tenantOf(request)
    await find(tenantId, request.params.id)
    const { token, hash } = newIngressToken()
    const row = await db.updateTable('mailboxes').set({ ingress_token_hash: hash, updated_at: new Date() })
      .where('tenant_id', '=', tenantId).where('id', '=', request.params.id).returningAll().executeTakeFirstOrThrow()
    return { ...present(row), ingressToken: token, ingressUrls: ingressUrls(app.config.publicUrl, token) }
  })
}

export default mailboxRoutes
