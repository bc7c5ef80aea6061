import type { Static } from '@sinclair/typebox'
import type { Insertable, Selectable, Updateable } from 'kysely'
import { ingressUrls, newIngressToken } from '../admin/ingress-token.js'
import { isUniqueViolation } from '../db/errors.js'
import { newestFirst } from '../db/pagination.js'
import type { CanarySettings, GraphSettings, ImapSettings, MailAuth, MailboxesTable, SmtpSettings } from '../db/schema.js'
import { checkMailbox, type MailboxCheck } from '../mail-auth/mailbox-check.js'
import { errors, fieldError } from '../errors.js'
import { storedAddress } from '../mail/address.js'
import { assertHostAllowed, OutboundDenied } from '../net/outbound-guard.js'
import { marker } from '../schemas/common.js'
import type { Mailbox, MailboxCreate, MailboxPatch, MailboxWithIngress } from '../schemas/mailboxes.js'
import { afterProcessingOf, DEFAULT_PROCESSED_FOLDER } from '../imap/after-processing.js'
import { assertInTenantDomains } from './tenant-domains.js'
import { announceChange, cursorScope, type PageOf, type PageQuery, type ResourceDeps } from './context.js'
import { refusePlaceholders } from './placeholders.js'
import { signInFrom, signInView, type StoredSignIn } from './mailbox-sign-in.js'

// A tenant's service mailboxes: one per licence, secrets sealed and write-only, the ingress token
// shown only when it is issued.

export type MailboxView = Static<typeof Mailbox>
export type MailboxWithIngressView = Static<typeof MailboxWithIngress>
type MailboxRow = Selectable<MailboxesTable>
type MailboxBody = Partial<Static<typeof MailboxPatch>>

/** What a tenant should know about a mailbox's settings before it bites them. */
function warningsFor (row: MailboxRow, imap: ImapSettings | null, publicUrl: string): string[] {
  const warnings: string[] = []
  if (row.graph !== null && !publicUrl.startsWith('https://')) warnings.push(`graph: Microsoft Graph posts notifications only to https URLs, and MAILRUN_PUBLIC_URL is ${publicUrl}: until it is an https address Graph reaches, only the delta pass (every MAILRUN_SWEEP_INTERVAL_S) finds new mail.`)
  if (row.sender_auth === 'off') warnings.push('senderAuth is off: anyone who forges the From address of an allowed sender can launch robots. Use dmarc or provider.')
  if (row.sender_auth === 'provider' && row.trusted_authserv_id === null && imap !== null) warnings.push('senderAuth is provider but trustedAuthservId is not set: mail found by the IMAP sweep cannot be authenticated and will be rejected.')
  if (row.sender_auth === 'provider' && row.trusted_authserv_id !== null) {
    warnings.push(`senderAuth is provider: mailrun trusts the topmost Authentication-Results header from ${row.trusted_authserv_id}. Unless that server removes incoming Authentication-Results headers carrying its own name (RFC 8601 section 5), a sender can forge "dmarc=pass". See "Trusting your MTA" in docs/providers.md, or use dmarc.`)
  }
  return warnings
}

const passwordKind = (auth: MailAuth | undefined): boolean => auth === undefined || auth.kind === 'password'

type LastCanary = { created_at: Date, state: 'sent' | 'detected' | 'missed', detected_at: Date | null, door: string | null } | undefined

function present (row: MailboxRow, publicUrl: string, canary?: LastCanary): MailboxView {
  const imap = row.imap as ImapSettings | null
  const smtp = row.smtp as SmtpSettings | null
  const graph = row.graph as GraphSettings | null
  return {
    id: row.id,
    address: row.address,
    active: row.active,
    senderAuth: row.sender_auth,
    trustedAuthservId: row.trusted_authserv_id,
    mailgunSigningKey: marker(row.mailgun_signing_key_enc),
    sendgridBasicAuth: row.sendgrid_username === null ? null : { username: row.sendgrid_username, password: marker(row.sendgrid_password_enc) },
    imap: imap === null ? null : { host: imap.host, port: imap.port, tls: imap.tls, user: imap.user, password: marker(passwordKind(imap.auth) ? row.imap_password_enc : null), auth: signInView(imap.auth, row.imap_password_enc), folders: imap.folders, afterProcessing: imap.afterProcessing ?? 'leave', processedFolder: imap.afterProcessing === 'move' ? (imap.processedFolder ?? DEFAULT_PROCESSED_FOLDER) : null, rejectedFolder: imap.afterProcessing === 'move' ? (imap.rejectedFolder ?? null) : null },
    imapStatus: {
      configuredAt: row.imap_configured_at?.toISOString() ?? null,
      lastSweptAt: row.imap_last_swept_at?.toISOString() ?? null,
      lastError: row.imap_last_error,
      lastErrorAt: row.imap_last_error_at?.toISOString() ?? null
    },
    graph: graph === null ? null : { user: graph.user, baseUrl: graph.baseUrl, auth: signInView(graph.auth, row.graph_secret_enc) },
    graphStatus: {
      configuredAt: row.graph_configured_at?.toISOString() ?? null,
      lastSyncedAt: row.graph_last_synced_at?.toISOString() ?? null,
      lastError: row.graph_last_error,
      lastErrorAt: row.graph_last_error_at?.toISOString() ?? null
    },
    smtp: smtp === null ? null : { host: smtp.host, port: smtp.port, tls: smtp.tls, user: smtp.user, password: marker(passwordKind(smtp.auth) ? row.smtp_password_enc : null), auth: signInView(smtp.auth, row.smtp_password_enc), fromName: smtp.fromName },
    canary: row.canary as CanarySettings | null,
    canaryStatus: {
      lastSentAt: canary?.created_at.toISOString() ?? null,
      state: canary?.state ?? null,
      detectedAt: canary?.detected_at?.toISOString() ?? null,
      detectionSeconds: canary?.detected_at != null ? Math.round((canary.detected_at.getTime() - canary.created_at.getTime()) / 100) / 10 : null,
      door: canary?.door ?? null
    },
    warnings: warningsFor(row, imap, publicUrl),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

const addressTaken = (address: string): Error => new errors.Conflict(`the address ${address} is already registered as a mailbox`)
const notFound = (id: string): Error => new errors.NotFound(`no mailbox ${id}`)

export function mailboxesResource (deps: ResourceDeps) {
  const { db } = deps
  const seal = (value: string): string => deps.secrets.seal(value)
  const withIngress = (row: MailboxRow, token: string): MailboxWithIngressView => ({ ...present(row, deps.config.publicUrl), ingressToken: token, ingressUrls: ingressUrls(deps.config.publicUrl, token) })

  async function checkHost (field: string, host: string): Promise<void> {
    try {
      await assertHostAllowed(deps.config.outboundDeny, host)
    } catch (error) {
      if (error instanceof OutboundDenied) throw fieldError(field, `may not be ${host}: ${error.message}`)
      throw error
    }
  }

  async function checkUrl (field: string, url: string): Promise<void> {
    let host: string
    try {
      host = new URL(url).hostname
    } catch {
      throw fieldError(field, 'is not a URL')
    }
    await checkHost(field, host)
  }

  /** Each mailbox's latest canary, for its status. */
  async function lastCanaries (ids: string[]): Promise<Map<string, NonNullable<LastCanary>>> {
    if (ids.length === 0) return new Map()
    const rows = await db.selectFrom('canaries').distinctOn('mailbox_id').select(['mailbox_id', 'created_at', 'state', 'detected_at', 'door'])
      .where('mailbox_id', 'in', ids).orderBy('mailbox_id').orderBy('created_at', 'desc').execute()
    return new Map(rows.map((r) => [r.mailbox_id, r]))
  }

  async function findRow (tenantId: string, id: string): Promise<MailboxRow> {
    const row = await db.selectFrom('mailboxes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (row === undefined) throw notFound(id)
    return row
  }

  /** The columns a body sets; `current` supplies stored passwords the body leaves out. */
  async function columnsFrom (body: MailboxBody, current: MailboxRow | null): Promise<Updateable<MailboxesTable>> {
    refusePlaceholders(body)
    const columns: Updateable<MailboxesTable> = {}
    if (body.address !== undefined) columns.address = storedAddress(body.address).toLowerCase()
    if (body.active !== undefined) columns.active = body.active
    if (body.canary !== undefined) columns.canary = body.canary === null ? null : JSON.stringify(body.canary)
    if (body.senderAuth !== undefined) columns.sender_auth = body.senderAuth
    if (body.trustedAuthservId !== undefined) columns.trusted_authserv_id = body.trustedAuthservId
    if (body.mailgunSigningKey !== undefined) columns.mailgun_signing_key_enc = body.mailgunSigningKey === null ? null : seal(body.mailgunSigningKey)
    if (body.sendgridBasicAuth !== undefined) {
      columns.sendgrid_username = body.sendgridBasicAuth?.username ?? null
      columns.sendgrid_password_enc = body.sendgridBasicAuth === null ? null : seal(body.sendgridBasicAuth.password)
    }
    const signIn = { seal, open: (sealed: string) => deps.secrets.open(sealed), checkUrl }
    const stored = (settings: ImapSettings | SmtpSettings | null | undefined, secretEnc: string | null | undefined): StoredSignIn | null =>
      settings == null ? null : { auth: settings.auth ?? { kind: 'password' }, secretEnc: secretEnc ?? null }
    if (body.imap !== undefined) {
      if (body.imap === null) {
        Object.assign(columns, { imap: null, imap_password_enc: null, imap_configured_at: null, imap_last_error: null, imap_last_error_at: null })
      } else {
        await checkHost('imap.host', body.imap.host)
        const { auth, secretEnc } = await signInFrom('imap', body.imap, stored(current?.imap as ImapSettings | null, current?.imap_password_enc), signIn)
        if (auth.kind === 'password' && secretEnc === null) throw fieldError('imap.password', 'is required')
        const settings: ImapSettings = { host: body.imap.host, port: body.imap.port ?? 993, tls: body.imap.tls ?? true, user: body.imap.user, folders: body.imap.folders ?? [], auth, ...afterProcessingOf(body.imap) }
        // The sweep takes mail from this moment on (minus a look-back), so it is reset on every change.
        Object.assign(columns, {
          imap: JSON.stringify(settings),
          imap_password_enc: secretEnc,
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
        const user = body.smtp.user ?? null
        const signed = await signInFrom('smtp', { ...body.smtp, user }, stored(current?.smtp as SmtpSettings | null, current?.smtp_password_enc), signIn)
        // No user and a password kind: the server takes mail without a login.
        const { auth, secretEnc } = signed.auth.kind === 'password' && user === null ? { auth: signed.auth, secretEnc: null } : signed
        if (auth.kind === 'password' && user !== null && secretEnc === null) throw fieldError('smtp.password', 'is required when smtp.user is set')
        const imapAfter = body.imap !== undefined ? body.imap : current?.imap
        if (auth.kind === 'same_as_imap' && imapAfter == null) throw fieldError('smtp.auth.kind', 'same_as_imap needs imap settings on the mailbox')
        const settings: SmtpSettings = { host: body.smtp.host, port: body.smtp.port ?? 465, tls: body.smtp.tls ?? true, user, fromName: body.smtp.fromName ?? null, auth }
        Object.assign(columns, { smtp: JSON.stringify(settings), smtp_password_enc: secretEnc })
      }
    } else if (body.imap === null && (current?.smtp as SmtpSettings | null | undefined)?.auth?.kind === 'same_as_imap') {
      throw fieldError('imap', 'cannot be removed while smtp signs in with same_as_imap: change smtp.auth first')
    }
    if (body.graph !== undefined) {
      if (body.graph === null) {
        Object.assign(columns, { graph: null, graph_secret_enc: null, graph_configured_at: null, graph_last_error: null, graph_last_error_at: null, graph_last_synced_at: null })
      } else {
        const currentGraph = current?.graph as GraphSettings | null | undefined
        const baseUrl = (body.graph.baseUrl ?? currentGraph?.baseUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '')
        await checkUrl('graph.baseUrl', baseUrl)
        const user = body.graph.user ?? currentGraph?.user ?? storedAddress(body.address ?? current?.address ?? '').toLowerCase()
        const currentSignIn = currentGraph == null ? null : { auth: currentGraph.auth, secretEnc: current?.graph_secret_enc ?? null }
        if (body.graph.auth === undefined && currentSignIn === null) throw fieldError('graph.auth', 'is required: the Microsoft app that reads the mailbox')
        const { auth, secretEnc } = await signInFrom('graph', { auth: body.graph.auth, user }, currentSignIn, signIn)
        const settings: GraphSettings = { user, baseUrl, auth }
        // Passes start over from this moment (minus the look-back), as IMAP's do.
        Object.assign(columns, { graph: JSON.stringify(settings), graph_secret_enc: secretEnc, graph_configured_at: new Date(), graph_last_error: null, graph_last_error_at: null })
      }
    }
    return columns
  }

  return {
    /** Registers a mailbox within the tenant's licences; answers its ingress token and URLs, once. */
    async create (tenantId: string, body: Static<typeof MailboxCreate>): Promise<MailboxWithIngressView> {
      // Before anything else: an address outside the tenant's domains is refused alike whether or not it is taken.
      await assertInTenantDomains(db, tenantId, 'address', body.address)
      const columns = await columnsFrom(body, null)
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
            ...columns as Insertable<MailboxesTable>, tenant_id: tenantId, address: storedAddress(body.address).toLowerCase(), ingress_token_hash: hash, ingress_token_enc: seal(token)
          }).returningAll().executeTakeFirstOrThrow()
        })
        await announceChange(deps, 'mailbox', row.id)
        return withIngress(row, token)
      } catch (error) {
        if (isUniqueViolation(error)) throw addressTaken(body.address)
        throw error
      }
    },

    async list (tenantId: string, query: PageQuery): Promise<PageOf<MailboxView>> {
      const { items, nextCursor } = await newestFirst(db.selectFrom('mailboxes').selectAll().where('tenant_id', '=', tenantId), 'mailboxes', 'created_at', query, cursorScope(deps, tenantId))
      const canaries = await lastCanaries(items.map((r) => r.id))
      return { items: items.map((row) => present(row, deps.config.publicUrl, canaries.get(row.id))), nextCursor }
    },

    async get (tenantId: string, id: string): Promise<MailboxView> {
      return present(await findRow(tenantId, id), deps.config.publicUrl, (await lastCanaries([id])).get(id))
    },

    /** Omitted secrets stay as they are; null clears. */
    async update (tenantId: string, id: string, body: Static<typeof MailboxPatch>): Promise<MailboxView> {
      const current = await findRow(tenantId, id)
      if (body.address !== undefined && storedAddress(body.address).toLowerCase() !== current.address) await assertInTenantDomains(db, tenantId, 'address', body.address)
      const columns = await columnsFrom(body, current)
      try {
        const row = await db.updateTable('mailboxes').set({ ...columns, updated_at: new Date() })
          .where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
        // Subscriptions made for other Graph settings are not this mailbox's any more (Graph lets them expire).
        if (body.graph !== undefined) await db.deleteFrom('graph_subscriptions').where('mailbox_id', '=', id).execute()
        await announceChange(deps, 'mailbox', id)
        return present(row, deps.config.publicUrl, (await lastCanaries([id])).get(id))
      } catch (error) {
        if (isUniqueViolation(error)) throw addressTaken(body.address ?? '')
        throw error
      }
    },

    /** Deletes the mailbox and its messages. */
    async remove (tenantId: string, id: string): Promise<void> {
      const deleted = await db.deleteFrom('mailboxes').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw notFound(id)
      await announceChange(deps, 'mailbox', id)
    },

    /** The ingress URLs again (the token is kept sealed); a mailbox from before that must rotate once. */
    async ingress (tenantId: string, id: string): Promise<MailboxWithIngressView> {
      const row = await findRow(tenantId, id)
      if (row.ingress_token_enc === null) throw new errors.Conflict('this mailbox was created before ingress tokens were kept sealed: issue new ingress URLs once (POST …/rotate-token), and they can be shown again from then on')
      return withIngress(row, deps.secrets.open(row.ingress_token_enc))
    },

    /** Signs in to the mailbox's IMAP and SMTP servers with the stored settings, step by step. */
    async test (tenantId: string, id: string): Promise<MailboxCheck> {
      const row = await findRow(tenantId, id)
      return await checkMailbox({ tokens: deps.mailTokens, deny: deps.config.outboundDeny, defaultSmtpUrl: deps.config.smtpUrl, timeoutMs: 20_000 },
        { ...row, imap: row.imap as ImapSettings | null, smtp: row.smtp as SmtpSettings | null, graph: row.graph as GraphSettings | null })
    },

    /** A new ingress token; the old ingress URLs stop working at once. */
    async rotateToken (tenantId: string, id: string): Promise<MailboxWithIngressView> {
      await findRow(tenantId, id)
      const { token, hash } = newIngressToken()
      const row = await db.updateTable('mailboxes').set({ ingress_token_hash: hash, ingress_token_enc: seal(token), updated_at: new Date() })
        .where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      // The doors keep the mailbox behind a token for a few seconds: the old token stops now.
      await announceChange(deps, 'mailbox', id)
      return withIngress(row, token)
    }
  }
}

export type MailboxesResource = ReturnType<typeof mailboxesResource>
