import { sql, type Expression, type Insertable, type Kysely, type Transaction } from 'kysely'
import type { Database, NotificationsTable, ReplyTo } from '../db/schema.js'
import { composeReply, type Locale, type ReplyContent } from './compose-reply.js'

// Replies are written to the notifications outbox in the same transaction as the state change that
// causes them; a worker sends them. A restart loses none, and no reply exists without its cause.

export interface ReplyTarget {
  tenantId: string
  mailboxId: string
  messageId: string
  launchId: string | null
  replyTo: ReplyTo
  locale: Locale
}

export type Db = Kysely<Database> | Transaction<Database>

type NotificationRow = Insertable<NotificationsTable>

/** The row that records a message gets no answer, and why: visible next to the message. */
function notRepliedRow (target: Omit<ReplyTarget, 'replyTo' | 'locale'> & { recipient: string }, kind: string, why: string): NotificationRow {
  return {
    tenant_id: target.tenantId,
    mailbox_id: target.mailboxId,
    message_id: target.messageId,
    launch_id: target.launchId,
    kind,
    recipient: target.recipient,
    subject: '',
    text_body: '',
    state: 'suppressed',
    last_error: `not replied: ${why}`
  }
}

/** Records that a message gets no answer, and why: visible next to the message. */
export async function recordNotReplied (db: Db, target: Omit<ReplyTarget, 'replyTo' | 'locale'> & { recipient: string }, kind: string, why: string): Promise<void> {
  await db.insertInto('notifications').values(notRepliedRow(target, kind, why)).execute()
}

/** What decides whether a reply may go: is the recipient one of our own mailboxes, and how many replies it had in the last hour (counted up to the limit). */
export interface ReplyChecks { own: boolean, recent: number }

/** Both checks as SQL expressions for `recipient` (lower-cased: a value, or an expression of the query they go in), so a caller can read them in a query it makes anyway. */
export function replyCheckColumns (recipient: Expression<string> | string, perHour: number) {
  return [
    sql<boolean>`exists (select 1 from mailboxes where lower(mailboxes.address) = ${recipient})`.as('own'),
    sql<number>`(select count(*) from (select 1 from notifications where lower(notifications.recipient) = ${recipient} and notifications.state in ('pending', 'sent') and notifications.created_at > now() - interval '1 hour' limit ${perHour}) as recent)`.as('recent')
  ] as const
}

/** The notification row a reply becomes: pending, or suppressed with the reason (no automatic answers asked for, one of our own mailboxes, the hourly limit). */
export function replyRow (target: ReplyTarget, content: ReplyContent, limits: { perHour: number, giveUpMs: number }, checks: ReplyChecks): NotificationRow {
  const recipient = target.replyTo.to.toLowerCase()
  const base = { tenantId: target.tenantId, mailboxId: target.mailboxId, messageId: target.messageId, launchId: target.launchId, recipient }
  if (target.replyTo.suppress !== undefined) return notRepliedRow(base, content.kind, `the sender asked for no automatic answers (${target.replyTo.suppress})`)
  if (checks.own) return notRepliedRow(base, content.kind, `${recipient} is a mailrun mailbox`)
  if (checks.recent >= limits.perHour) return notRepliedRow(base, content.kind, `more than ${limits.perHour} replies to ${recipient} in the last hour (MAILRUN_REPLY_LIMIT_PER_HOUR)`)
  const reply = composeReply(content, target.locale, target.replyTo.subject)
  const references = [...target.replyTo.references, ...(target.replyTo.messageId !== null ? [target.replyTo.messageId] : [])]
  return {
    tenant_id: target.tenantId,
    mailbox_id: target.mailboxId,
    message_id: target.messageId,
    launch_id: target.launchId,
    kind: content.kind,
    recipient,
    subject: reply.subject,
    text_body: reply.text,
    html_body: reply.html,
    headers: JSON.stringify({ ...(target.replyTo.messageId !== null ? { inReplyTo: target.replyTo.messageId } : {}), references: references.slice(-20).join(' '), toName: target.replyTo.name }),
    give_up_at: new Date(Date.now() + limits.giveUpMs)
  }
}

export async function queueReply (db: Db, target: ReplyTarget, content: ReplyContent, limits: { perHour: number, giveUpMs: number }): Promise<'queued' | 'suppressed'> {
  const recipient = target.replyTo.to.toLowerCase()
  const checks = target.replyTo.suppress !== undefined
    ? { own: false, recent: 0 }
    : await db.selectNoFrom(replyCheckColumns(recipient, limits.perHour)).executeTakeFirstOrThrow()
  const row = replyRow(target, content, limits, { own: checks.own === true, recent: Number(checks.recent) })
  await db.insertInto('notifications').values(row).execute()
  return row.state === 'suppressed' ? 'suppressed' : 'queued'
}
