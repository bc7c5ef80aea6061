import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, ReplyTo } from '../db/schema.js'
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

/** Records that a message gets no answer, and why: visible next to the message. */
export async function recordNotReplied (db: Db, target: Omit<ReplyTarget, 'replyTo' | 'locale'> & { recipient: string }, kind: string, why: string): Promise<void> {
  await db.insertInto('notifications').values({
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
  }).execute()
}

export async function queueReply (db: Db, target: ReplyTarget, content: ReplyContent, limits: { perHour: number, giveUpMs: number }): Promise<'queued' | 'suppressed'> {
  const recipient = target.replyTo.to.toLowerCase()
  const base = { tenantId: target.tenantId, mailboxId: target.mailboxId, messageId: target.messageId, launchId: target.launchId, recipient }
  if (target.replyTo.suppress !== undefined) {
    await recordNotReplied(db, base, content.kind, `the sender asked for no automatic answers (${target.replyTo.suppress})`)
    return 'suppressed'
  }
  // Both checks in one round trip: is the recipient one of our own mailboxes, and how many
  // replies has it had in the last hour (counted only up to the limit).
  const checks = await db.selectNoFrom((eb) => [
    eb.exists(eb.selectFrom('mailboxes').select('id').where(sql<string>`lower(address)`, '=', recipient)).as('own'),
    eb.selectFrom((inner) => inner.selectFrom('notifications').select('id')
      .where(sql<string>`lower(recipient)`, '=', recipient).where('state', 'in', ['pending', 'sent'])
      .where('created_at', '>', sql<Date>`now() - interval '1 hour'`).limit(limits.perHour).as('recent'))
      .select((c) => c.fn.countAll<number>().as('n')).as('recent')
  ]).executeTakeFirstOrThrow()
  if (checks.own === true) {
    await recordNotReplied(db, base, content.kind, `${recipient} is a mailrun mailbox`)
    return 'suppressed'
  }
  if (Number(checks.recent) >= limits.perHour) {
    await recordNotReplied(db, base, content.kind, `more than ${limits.perHour} replies to ${recipient} in the last hour (MAILRUN_REPLY_LIMIT_PER_HOUR)`)
    return 'suppressed'
  }
  const reply = composeReply(content, target.locale, target.replyTo.subject)
  const references = [...target.replyTo.references, ...(target.replyTo.messageId !== null ? [target.replyTo.messageId] : [])]
  await db.insertInto('notifications').values({
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
  }).execute()
  return 'queued'
}
