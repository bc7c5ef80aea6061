import { sql, type Kysely, type Selectable } from 'kysely'
import type { Logger } from 'pino'
import type { Locale } from '../commands/problem-text.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { ChannelDeliveriesTable, Database, NotificationChannelsTable } from '../db/schema.js'
import { outboundDispatcher } from '../net/outbound-dispatcher.js'
import type { OutboundDeny } from '../net/outbound-guard.js'
import { OutboundFailure, outboundRequest } from '../net/outbound-request.js'
import { retryAfterMs } from '../net/retry-after.js'
import { alertText, channelFailingText, type AlertType } from './alert-text.js'
import { alertRequest, type OutgoingAlert } from './channel-request.js'
import { queueAlertEmail } from './alert-email.js'

// Sends the deliveries outbox. A channel gets at most one request a second (Slack's and Google
// Chat's documented limit per webhook; Chatwork's is 300 in 5 minutes), a 429's Retry-After holds
// the whole channel, and a failed attempt is retried on the Standard Webhooks schedule — 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — with the same webhook-id, until a day has passed. A
// channel whose last attempt failed is "failing" from then until one succeeds.

export interface AlertDeps {
  db: Kysely<Database>
  secrets: SecretBox
  deny: OutboundDeny
  logger: Logger
  publicUrl: string
  chatworkApiUrl: string
  timeoutMs?: number
}

export interface AttemptResult { ok: boolean, status: number | null, answer: string, retryAfterMs: number | null, permanent: boolean }

export interface AlertSender {
  /** Sends the deliveries that are due; answers how many went. */
  deliverDue: (limit?: number) => Promise<number>
  /** Sends one delivery now (the channel test), answering how it went. */
  deliverNow: (id: string) => Promise<AttemptResult>
  close: () => Promise<void>
}

export const RETRY_SCHEDULE_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000]
const CLAIM_MS = 2 * 60_000
const SPACING_MS = 1_000
const ANSWER_CHARS = 500
const FAILING_TOLD_AFTER_MS = 24 * 3600_000

type Channel = Selectable<NotificationChannelsTable> & { locale: Locale }
type Delivery = Selectable<ChannelDeliveriesTable>

/** The console page an event points to. */
function linkOf (publicUrl: string, type: string, data: Record<string, unknown>): string {
  if (type === 'orchestrator.failing') return `${publicUrl}/console/orchestrator`
  if (typeof data.launchId === 'string') return `${publicUrl}/console/launches/${data.launchId}`
  if (typeof data.mailboxId === 'string') return `${publicUrl}/console/mailboxes/${data.mailboxId}`
  if (type === 'messages.stuck') return `${publicUrl}/console/messages?status=received`
  if (type === 'digest') return `${publicUrl}/console`
  return `${publicUrl}/console/alerts`
}

/** How long a receiver asked to be left alone: Retry-After, or on a 429 Chatwork's X-RateLimit-Reset (the epoch second its window ends). */
function waitAsked (status: number, headers: Record<string, string | string[] | undefined>): number | null {
  const asked = retryAfterMs(headers['retry-after'])
  if (asked !== null || status !== 429) return asked
  const reset = Number(Array.isArray(headers['x-ratelimit-reset']) ? headers['x-ratelimit-reset'][0] : headers['x-ratelimit-reset'])
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : null
}

export function createAlertSender (deps: AlertDeps): AlertSender {
  const { db } = deps
  const dispatcher = outboundDispatcher(deps.deny, { connections: 4, keepAliveTimeout: 10_000 })
  const timeoutMs = deps.timeoutMs ?? 10_000

  async function post (channel: Channel, alert: OutgoingAlert): Promise<AttemptResult> {
    const opened = {
      url: channel.url_enc !== null ? deps.secrets.open(channel.url_enc) : null,
      secret: channel.secret_enc !== null ? deps.secrets.open(channel.secret_enc) : null
    }
    if (channel.kind === 'email') {
      const queued = await queueAlertEmail(db, channel, alert)
      return { ok: queued.ok, status: null, answer: queued.answer, retryAfterMs: null, permanent: false }
    }
    const outgoing = alertRequest({ kind: channel.kind, url: opened.url, secret: opened.secret, roomId: channel.room_id }, alert, deps.chatworkApiUrl)
    try {
      const answer = await outboundRequest({ dispatcher, deny: deps.deny }, 'POST', new URL(outgoing.url), { headers: outgoing.headers, body: outgoing.body, timeoutMs, peer: 'the channel', maxAnswerChars: ANSWER_CHARS })
      const ok = answer.status >= 200 && answer.status < 300
      // 410 Gone: the receiver says this address is no more (Slack: channel_is_archived).
      return { ok, status: answer.status, answer: answer.text.trim(), retryAfterMs: waitAsked(answer.status, answer.headers), permanent: answer.status === 410 }
    } catch (error) {
      if (!(error instanceof OutboundFailure)) throw error
      return { ok: false, status: null, answer: error.message, retryAfterMs: null, permanent: error.denied }
    }
  }

  async function attempt (delivery: Delivery, channel: Channel): Promise<AttemptResult> {
    const alert: OutgoingAlert = {
      id: delivery.id,
      type: delivery.event_type,
      data: delivery.data,
      createdAt: delivery.created_at,
      text: alertText(delivery.event_type as AlertType, delivery.data, channel.locale),
      link: linkOf(deps.publicUrl, delivery.event_type, delivery.data)
    }
    let result: AttemptResult
    try {
      result = await post(channel, alert)
    } catch (error) {
      result = { ok: false, status: null, answer: error instanceof Error ? error.message : String(error), retryAfterMs: null, permanent: false }
    }
    await record(delivery, channel, result)
    return result
  }

  async function record (delivery: Delivery, channel: Channel, result: AttemptResult): Promise<void> {
    const attempts = delivery.attempts + 1
    const answer = `${result.status !== null ? `${result.status} ` : ''}${result.answer}`.slice(0, ANSWER_CHARS)
    if (result.ok) {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('channel_deliveries').set({ state: 'sent', sent_at: new Date(), attempts, last_status: result.status, last_answer: answer }).where('id', '=', delivery.id).execute()
        await trx.updateTable('notification_channels').set({ failing_since: null, failing_told_at: null, last_error: null }).where('id', '=', channel.id).execute()
      })
      return
    }
    const delay = Math.max(RETRY_SCHEDULE_MS[attempts - 1] ?? Infinity, result.retryAfterMs ?? 0)
    const givingUp = result.permanent || Date.now() + delay > delivery.give_up_at.getTime()
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('channel_deliveries').set({
        attempts,
        last_status: result.status,
        last_answer: givingUp ? `gave up: ${answer}` : answer,
        ...(givingUp ? { state: 'failed' as const } : { next_attempt_at: new Date(Date.now() + delay) })
      }).where('id', '=', delivery.id).execute()
      await trx.updateTable('notification_channels').set({ failing_since: sql<Date>`coalesce(failing_since, now())`, last_error: answer }).where('id', '=', channel.id).execute()
      // A day of failures: the admins hear of it by email, once, since the channel itself cannot tell anyone.
      const longFailing = await trx.updateTable('notification_channels').set({ failing_told_at: new Date() })
        .where('id', '=', channel.id).where('failing_told_at', 'is', null).where('failing_since', '<', new Date(Date.now() - FAILING_TOLD_AFTER_MS))
        .returning(['failing_since']).executeTakeFirst()
      if (longFailing !== undefined) {
        await queueAlertEmail(trx, { ...channel, recipients: [] }, {
          id: delivery.id,
          type: 'channel.failing',
          data: {},
          createdAt: new Date(),
          text: channelFailingText({ channel: channel.name, kind: channel.kind, since: longFailing.failing_since?.toISOString() ?? '', error: answer }, channel.locale),
          link: `${deps.publicUrl}/console/alerts/${channel.id}`
        })
      }
      // The receiver asked for a pause: the channel's turn moves past it, so no pass — this one or
      // another that already holds one of its deliveries — sends to it before then.
      if (result.retryAfterMs !== null) {
        await trx.updateTable('notification_channels')
          .set({ next_send_at: sql<Date>`greatest(coalesce(next_send_at, now()), now() + ${`${result.retryAfterMs} milliseconds`}::interval)` })
          .where('id', '=', channel.id).execute()
      }
    })
    deps.logger.warn({ deliveryId: delivery.id, channelId: channel.id, attempts, givingUp, status: result.status }, 'alert not delivered')
  }

  async function channelsOf (ids: string[]): Promise<Map<string, Channel>> {
    if (ids.length === 0) return new Map()
    const rows = await db.selectFrom('notification_channels').innerJoin('tenants', 'tenants.id', 'notification_channels.tenant_id')
      .selectAll('notification_channels').select('tenants.locale').where('notification_channels.id', 'in', ids).execute()
    return new Map(rows.map((r) => [r.id, r as Channel]))
  }

  async function claim (ids?: string[], limit = 50): Promise<Delivery[]> {
    let due = db.selectFrom('channel_deliveries').select('id').where('state', '=', 'pending')
    due = ids !== undefined ? due.where('id', 'in', ids) : due.where('next_attempt_at', '<=', sql<Date>`now()`).orderBy('next_attempt_at')
    return await db.updateTable('channel_deliveries')
      .from(due.limit(limit).forUpdate().skipLocked().as('due'))
      .set({ next_attempt_at: sql<Date>`now() + ${`${CLAIM_MS} milliseconds`}::interval` })
      .whereRef('channel_deliveries.id', '=', 'due.id')
      .returningAll('channel_deliveries').execute()
  }

  /** Moves deliveries that did not get their channel's turn behind it, a second apart, in the order given. */
  async function waitForTurn (channelId: string, ids: string[]): Promise<void> {
    const turn = db.selectFrom('notification_channels').select(sql<Date>`greatest(coalesce(next_send_at, now()), now())`.as('at')).where('id', '=', channelId)
    await db.updateTable('channel_deliveries')
      .set({ next_attempt_at: sql<Date>`(${turn}) + make_interval(secs => array_position(${sql.val(ids)}::uuid[], id) - 1)` })
      .where('id', 'in', ids).where('state', '=', 'pending').execute()
  }

  return {
    async deliverDue (limit = 50) {
      const due = await claim(undefined, limit)
      if (due.length === 0) return 0
      due.sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
      const channels = await channelsOf([...new Set(due.map((d) => d.channel_id))])
      const byChannel = new Map<string, Delivery[]>()
      for (const d of due) byChannel.set(d.channel_id, [...(byChannel.get(d.channel_id) ?? []), d])
      // One request per channel per second, whichever pass or replica sends: a pass takes a
      // channel's turn by moving its next_send_at a second ahead; a channel whose turn another pass
      // took (or a receiver's Retry-After holds) waits for it, and so do a channel's other
      // deliveries, in order behind it.
      const won = new Set((await db.updateTable('notification_channels').set({ next_send_at: sql<Date>`now() + ${`${SPACING_MS} milliseconds`}::interval` })
        .where('id', 'in', [...byChannel.keys()]).where((eb) => eb.or([eb('next_send_at', 'is', null), eb('next_send_at', '<=', sql<Date>`now()`)]))
        .returning('id').execute()).map((r) => r.id))
      let sent = 0
      await Promise.all([...byChannel].map(async ([channelId, rows]) => {
        const channel = channels.get(channelId)
        const turn = won.has(channelId) && channel !== undefined
        const waiting = turn ? rows.slice(1) : rows
        const first = rows[0]
        // The request goes the moment the turn is taken, before the others are moved behind it: the
        // second is measured from the first request, not from a statement that ran before it.
        const [result] = await Promise.all([
          turn && first !== undefined ? attempt(first, channel) : null,
          waiting.length > 0 ? waitForTurn(channelId, waiting.map((r) => r.id)) : null
        ])
        if (result?.ok === true) sent++
      }))
      return sent
    },

    async deliverNow (id) {
      const [delivery] = await claim([id], 1)
      if (delivery === undefined) throw new Error(`delivery ${id} is not pending`)
      const channel = (await channelsOf([delivery.channel_id])).get(delivery.channel_id)
      if (channel === undefined) throw new Error(`the channel of delivery ${id} no longer exists`)
      // Asked for by a person, so sent now; the channel's next turn is still a second away.
      await db.updateTable('notification_channels').set({ next_send_at: sql<Date>`now() + ${`${SPACING_MS} milliseconds`}::interval` }).where('id', '=', channel.id).execute()
      return await attempt(delivery, channel)
    },

    async close () {
      await dispatcher.close()
    }
  }
}
