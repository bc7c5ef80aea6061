import { createBatcher } from '../async/batcher.js'
import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { Transporter } from 'nodemailer'
import type { Logger } from 'pino'
import type { Database, ImapSettings, SmtpSettings } from '../db/schema.js'
import { MailTokenError } from '../mail-auth/token-endpoint.js'
import type { MailCredential, MailTokens } from '../mail-auth/mail-tokens.js'
import { resolveAllowed, type OutboundDeny } from '../net/outbound-guard.js'
import { CANARY_HEADER } from '../canary/canary-header.js'
import { inSpan } from '../telemetry/spans.js'

// Sends the outbox. Every SMTP fault (4xx, 5xx, refused connection) is retried with backoff until
// the reply's give-up time; then it is marked failed with the error, visible on the launch.

export interface MailerDeps {
  db: Kysely<Database>
  logger: Logger
  tokens: MailTokens
  deny: OutboundDeny
  defaultSmtpUrl: string | undefined
}

export interface Mailer {
  /** Sends the replies that are due; answers how many went out. */
  sendDue: (limit?: number) => Promise<number>
  close: () => void
}

const CLAIM_MS = 5 * 60_000

/** A reply's last_error: the token endpoint's or the SMTP server's own words, and what to check. */
function smtpFailure (error: unknown, credential: MailCredential | null): string {
  if (error instanceof MailTokenError) return `SMTP sign-in: no access token: ${error.message}`
  const message = error instanceof Error ? error.message : String(error)
  if (credential !== null && 'accessToken' in credential && (error as { responseCode?: number }).responseCode === 535) {
    return `SMTP login with an access token failed: ${message}; the token was issued, so check that the application may send as this mailbox (docs/providers.md)`
  }
  return message
}

export function retryDelayMs (attempts: number): number {
  return Math.min(30 * 60_000, 30_000 * 2 ** Math.max(0, attempts - 1))
}

/**
 * The SMTP server replies of a mailbox go through: its own `smtp` settings (the tenant typed the
 * host, so it is checked against the deny list again, after DNS), else MAILRUN_SMTP_URL.
 * Used by the mailer, the mailbox test and `mailrun doctor`.
 */
export async function smtpTransportOptions (deps: Pick<MailerDeps, 'deny' | 'defaultSmtpUrl'>, smtp: SmtpSettings | null, credential: MailCredential | null): Promise<string | Record<string, unknown>> {
  if (smtp !== null) {
    const [target] = await resolveAllowed(deps.deny, smtp.host)
    return {
      host: target?.address ?? smtp.host,
      port: smtp.port,
      secure: smtp.tls,
      tls: { servername: smtp.host },
      ...(credential === null ? {} : { auth: 'accessToken' in credential ? { type: 'OAuth2', user: credential.user, accessToken: credential.accessToken } : { user: credential.user, pass: credential.pass } }),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000
    }
  }
  if (deps.defaultSmtpUrl !== undefined) return deps.defaultSmtpUrl
  throw new Error('no SMTP server for replies: set smtp on the mailbox or MAILRUN_SMTP_URL')
}

/** Whether the mailbox's SMTP settings sign in at all (no user and no borrowed sign-in: they do not). */
export function smtpSignsIn (smtp: SmtpSettings | null): boolean {
  return smtp !== null && (smtp.user !== null || smtp.auth?.kind === 'same_as_imap')
}

/** SMTP connections kept for the next reply: at most two per server, each for up to 100 replies. */
function pooled (options: string | Record<string, unknown>): string | Record<string, unknown> {
  const pool = { pool: true, maxConnections: 2, maxMessages: 100 }
  if (typeof options !== 'string') return { ...options, ...pool }
  const url = new URL(options)
  for (const [name, value] of Object.entries(pool)) if (!url.searchParams.has(name)) url.searchParams.set(name, String(value))
  return url.toString()
}

export function createMailer (deps: MailerDeps): Mailer {
  const { db } = deps
  const transports = new Map<string, Transporter>()

  async function transportFor (mailboxId: string | null): Promise<{ transport: Transporter, from: { name: string, address: string }, credential: MailCredential | null }> {
    const mailbox = mailboxId === null ? undefined : await db.selectFrom('mailboxes').select(['id', 'address', 'imap', 'imap_password_enc', 'smtp', 'smtp_password_enc']).where('id', '=', mailboxId).executeTakeFirst()
    if (mailbox === undefined || mailboxId === null) throw new Error('the mailbox of this reply no longer exists')
    const smtp = mailbox.smtp as SmtpSettings | null
    const credential = smtpSignsIn(smtp) ? await deps.tokens.credential({ ...mailbox, imap: mailbox.imap as ImapSettings | null, smtp }, 'smtp') : null
    const options = await smtpTransportOptions(deps, smtp, credential)
    const key = `${mailboxId}:${createHash('sha256').update(JSON.stringify(options)).digest('hex')}`
    let transport = transports.get(key)
    if (transport === undefined) {
      // A new token or changed settings: the mailbox's older transports are done with.
      for (const [k, old] of transports) if (k.startsWith(`${mailboxId}:`)) { old.close(); transports.delete(k) }
      // Loaded on the first reply, not at start: an idle instance does not carry it.
      const { default: nodemailer } = await import('nodemailer')
      // Pooled: replies to one mailbox's server reuse a connection (a burst of launches is a burst
      // of replies) instead of a new connection, greeting and sign-in for each.
      transport = nodemailer.createTransport(pooled(options) as Parameters<typeof nodemailer.createTransport>[0])
      transports.set(key, transport)
    }
    return { transport, from: { name: smtp?.fromName ?? 'mailrun', address: mailbox.address }, credential }
  }

  /** Replies sent at about the same time are recorded as sent in one statement. */
  const markSent = createBatcher<string, undefined>({
    maxItems: 100,
    runOne: async (id) => { await markSentRows([id]) },
    run: async (ids) => { await markSentRows(ids); return ids.map(() => undefined) }
  })
  async function markSentRows (ids: string[]): Promise<void> {
    await db.updateTable('notifications').set((eb) => ({ state: 'sent', sent_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null })).where('id', 'in', ids).execute()
  }

  return {
    async sendDue (limit = 20) {
      // Claimed in one statement (locked rows skipped: another instance is sending them), by moving
      // their next attempt past the time a pass can take.
      const due = await db.updateTable('notifications')
        .from(db.selectFrom('notifications').select('id').where('state', '=', 'pending')
          .where('next_attempt_at', '<=', sql<Date>`now()`).orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked().as('due'))
        .set({ next_attempt_at: sql<Date>`now() + ${`${CLAIM_MS} milliseconds`}::interval` })
        .whereRef('notifications.id', '=', 'due.id')
        .returningAll('notifications').execute()
      due.sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
      // One look at each mailbox's settings per pass, however many of its replies are due.
      const targets = new Map<string | null, ReturnType<typeof transportFor>>()
      async function send (row: (typeof due)[number]): Promise<boolean> {
        let credential: MailCredential | null = null
        try {
          const pending = targets.get(row.mailbox_id) ?? transportFor(row.mailbox_id)
          targets.set(row.mailbox_id, pending)
          pending.catch(() => {})
          const target = await pending
          const { transport, from } = target
          credential = target.credential
          const headers = row.headers
          await inSpan('mailrun.reply', { 'mailrun.reply.kind': row.kind }, async () => await transport.sendMail({
            from,
            to: { name: headers.toName ?? '', address: row.recipient },
            subject: row.subject,
            text: row.text_body,
            ...(row.html_body !== null ? { html: row.html_body } : {}),
            ...(headers.inReplyTo !== undefined ? { inReplyTo: headers.inReplyTo } : {}),
            ...(headers.references !== undefined && headers.references !== '' ? { references: headers.references } : {}),
            headers: { 'Auto-Submitted': headers.canary !== undefined ? 'auto-generated' : 'auto-replied', 'X-Auto-Response-Suppress': 'All', ...(headers.canary !== undefined ? { [CANARY_HEADER]: headers.canary } : {}) }
          }))
          await markSent(row.id)
          return true
        } catch (error) {
          // The next reply to this mailbox looks at its settings (and sign-in) again.
          targets.delete(row.mailbox_id)
          const message = smtpFailure(error, credential)
          if (credential !== null && 'accessToken' in credential && (error as { responseCode?: number }).responseCode === 535 && row.mailbox_id !== null) deps.tokens.invalidate(row.mailbox_id, credential.accessToken)
          const attempts = row.attempts + 1
          const givingUp = Date.now() + retryDelayMs(attempts) > row.give_up_at.getTime()
          await db.updateTable('notifications').set({
            attempts,
            last_error: givingUp ? `gave up: ${message}` : message,
            ...(givingUp ? { state: 'failed' as const } : { next_attempt_at: new Date(Date.now() + retryDelayMs(attempts)) })
          }).where('id', '=', row.id).execute()
          deps.logger.warn({ notificationId: row.id, attempts, givingUp, reason: message }, 'reply not sent')
          return false
        }
      }
      // The replies of one message (launched, then finished) go in the order they were written;
      // different messages' replies go side by side, over the mailbox's pooled connections.
      const threads = new Map<string, typeof due>()
      for (const row of due) {
        const key = row.message_id ?? row.id
        threads.set(key, [...threads.get(key) ?? [], row])
      }
      const counts = await Promise.all([...threads.values()].map(async (rows) => {
        let sent = 0
        for (const row of rows) if (await send(row)) sent++
        return sent
      }))
      const sent = counts.reduce((a, b) => a + b, 0)
      return sent
    },
    close () {
      for (const transport of transports.values()) transport.close()
      transports.clear()
    }
  }
}
