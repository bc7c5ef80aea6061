import { randomBytes } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Logger } from 'pino'
import type { CanarySettings, Database } from '../db/schema.js'
import { canaryHeaderValue, type CanaryMark } from './canary-header.js'

// Proof that mail still flows: for each mailbox with a canary, every intervalMinutes mailrun sends
// itself a test email through the mailbox's own route (the reply outbox: its SMTP settings, to its
// own address) and expects a door to find it within deadlineSeconds. Found, it is recorded and goes
// no further (no message, no launch, no reply); not found in time, it is missed, and the incident
// watch tells the team (canary.missed, then canary.recovered).

export interface CanaryWatch {
  /** Sends the canaries that are due and marks the late ones missed; answers how many went. */
  pass: () => Promise<{ sent: number, missed: number }>
}

export function createCanaryWatch (deps: { db: Kysely<Database>, logger: Logger, onQueued?: () => void }): CanaryWatch {
  const { db } = deps
  return {
    async pass () {
      const missed = await db.updateTable('canaries').set({ state: 'missed' })
        .where('state', '=', 'sent')
        .where(sql<boolean>`created_at < now() - make_interval(secs => coalesce((select (m.canary->>'deadlineSeconds')::int from mailboxes m where m.id = canaries.mailbox_id), 300))`)
        .returning('mailbox_id').execute()
      if (missed.length > 0) deps.logger.warn({ mailboxes: missed.map((m) => m.mailbox_id) }, 'canary missed: the test email did not come back in time')
      const due = await db.selectFrom('mailboxes as m')
        .select(['m.id', 'm.tenant_id', 'm.address', 'm.canary'])
        .where('m.active', '=', true).where('m.canary', 'is not', null)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('canaries as c').select('c.id').whereRef('c.mailbox_id', '=', 'm.id')
          .where(sql<boolean>`c.created_at > now() - make_interval(mins => (m.canary->>'intervalMinutes')::int)`))))
        .execute()
      let sent = 0
      for (const mailbox of due) {
        const settings = mailbox.canary as CanarySettings
        const queued = await db.transaction().execute(async (trx) => await queueCanary(trx, mailbox.id, mailbox.tenant_id, mailbox.address, settings))
        if (queued) sent++
      }
      if (sent > 0) deps.onQueued?.()
      return { sent, missed: missed.length }
    }
  }
}

/**
 * Records a canary and queues its email, unless another replica did within the interval (the
 * mailbox row is locked while deciding).
 */
async function queueCanary (trx: Transaction<Database>, mailboxId: string, tenantId: string, address: string, settings: CanarySettings): Promise<boolean> {
  await trx.selectFrom('mailboxes').select('id').where('id', '=', mailboxId).forUpdate().execute()
  const recent = await trx.selectFrom('canaries').select('id').where('mailbox_id', '=', mailboxId)
    .where(sql<boolean>`created_at > now() - make_interval(mins => ${settings.intervalMinutes}::int)`).executeTakeFirst()
  if (recent !== undefined) return false
  const token = randomBytes(24).toString('base64url')
  const row = await trx.insertInto('canaries').values({ tenant_id: tenantId, mailbox_id: mailboxId, token }).returning(['id', 'created_at']).executeTakeFirstOrThrow()
  const mark: CanaryMark = { id: row.id, token }
  await trx.insertInto('notifications').values({
    tenant_id: tenantId,
    mailbox_id: mailboxId,
    kind: 'canary',
    recipient: address,
    subject: `mailrun canary ${row.id}`,
    text_body: `mailrun sent this test email to itself at ${row.created_at.toISOString()} to prove that mail to ${address} still reaches it. It is recognised and dropped; nothing is launched and nobody is answered.\n`,
    headers: JSON.stringify({ canary: canaryHeaderValue(mark) }),
    // Not retried past its own deadline: a late canary is a missed one.
    give_up_at: new Date(Date.now() + settings.deadlineSeconds * 1000)
  }).execute()
  return true
}

/** Records a canary found by a door: answers true when the message is one of ours (found now or before). */
export async function detectCanary (db: Kysely<Database>, mailboxId: string, mark: CanaryMark, door: string): Promise<boolean> {
  const found = await db.updateTable('canaries').set({ state: 'detected', detected_at: new Date(), door })
    .where('id', '=', mark.id).where('mailbox_id', '=', mailboxId).where('token', '=', mark.token).where('state', 'in', ['sent', 'missed'])
    .returning('id').executeTakeFirst()
  if (found !== undefined) return true
  // Found before by another door (push and the sweep both saw it): still ours, still dropped.
  const known = await db.selectFrom('canaries').select('id').where('id', '=', mark.id).where('mailbox_id', '=', mailboxId).where('token', '=', mark.token).executeTakeFirst()
  return known !== undefined
}

export interface MissedCanary { mailboxId: string, tenantId: string, address: string, sentAt: Date, sendError: string | null }

/** Active mailboxes whose latest canary was missed, with why its email may not have gone: what /readyz, the metrics and the incident watch report. */
export async function missedCanaries (db: Kysely<Database>): Promise<MissedCanary[]> {
  const rows = await db.selectFrom('canaries as c').innerJoin('mailboxes as m', 'm.id', 'c.mailbox_id')
    .distinctOn('c.mailbox_id').select(['c.mailbox_id', 'c.tenant_id', 'c.state', 'c.created_at', 'm.address',
      sql<string | null>`(select n.last_error from notifications n where n.mailbox_id = c.mailbox_id and n.kind = 'canary' and n.subject = 'mailrun canary ' || c.id::text limit 1)`.as('send_error')])
    .where('m.canary', 'is not', null).where('m.active', '=', true)
    .orderBy('c.mailbox_id').orderBy('c.created_at', 'desc').execute()
  return rows.filter((r) => r.state === 'missed')
    .map((r) => ({ mailboxId: r.mailbox_id, tenantId: r.tenant_id, address: r.address, sentAt: r.created_at, sendError: r.send_error }))
}
