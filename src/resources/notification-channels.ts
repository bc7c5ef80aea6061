import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import type { AlertSender } from '../alerts/deliver-alerts.js'
import { duePeriod } from '../alerts/digest-period.js'
import { newSigningSecret } from '../crypto/standard-webhooks.js'
import type { ChannelDeliveriesTable, ChannelKind, NotificationChannelsTable } from '../db/schema.js'
import { isUniqueViolation } from '../db/errors.js'
import { newestFirst } from '../db/pagination.js'
import { errors, fieldError } from '../errors.js'
import { sealedUrl } from './allowed-url.js'
import { marker } from '../schemas/common.js'
import type { Channel, ChannelCreate, ChannelPatch, ChannelTestResult, Delivery } from '../schemas/notification-channels.js'
import { cursorScope, type PageOf, type PageQuery, type ResourceDeps } from './context.js'
import { refusePlaceholders } from './placeholders.js'

// A tenant's alert channels: where its team is told of faulted jobs and launches that gave up.
// URLs (Slack's, Teams' and Google Chat's carry their token) and secrets are sealed and never
// shown back; a webhook's signing secret is answered once, when it is made.

export type ChannelView = Static<typeof Channel>
type DeliveryView = Static<typeof Delivery>
type Create = Static<typeof ChannelCreate>
type Patch = Static<typeof ChannelPatch>

const MAX_CHANNELS = 20
const URL_KINDS = new Set<ChannelKind>(['webhook', 'slack', 'teams', 'google_chat'])

const notFound = (id: string): Error => new errors.NotFound(`no notification channel ${id} in this tenant`)

/** Which fields a kind takes; any other is refused by name, so a mistake is not silently ignored. */
function checkFields (kind: ChannelKind, body: { url?: string | undefined, roomId?: string | undefined, token?: string | undefined, recipients?: string[] | undefined, rotateSecret?: boolean | undefined }, creating: boolean): void {
  const takes: Record<string, boolean> = {
    url: URL_KINDS.has(kind),
    roomId: kind === 'chatwork',
    token: kind === 'chatwork',
    recipients: kind === 'email',
    rotateSecret: kind === 'webhook'
  }
  for (const [field, allowed] of Object.entries(takes)) {
    if (!allowed && body[field as keyof typeof body] !== undefined) throw fieldError(field, `is not used by a ${kind} channel: leave it out`)
  }
  // A header carries it: anything but visible ASCII would fail at every delivery instead of here.
  if (body.token !== undefined && !/^[\x21-\x7e]+$/.test(body.token)) throw fieldError('token', 'must be the API token as Chatwork shows it (Latin letters and digits, no spaces)')
  if (!creating) return
  if (URL_KINDS.has(kind) && body.url === undefined) throw fieldError('url', `is required for a ${kind} channel${kind === 'webhook' ? '' : ': the incoming webhook URL the app gave you'}`)
  if (kind === 'chatwork' && body.roomId === undefined) throw fieldError('roomId', 'is required for a chatwork channel: the number after #!rid in the room\'s address')
  if (kind === 'chatwork' && body.token === undefined) throw fieldError('token', 'is required for a chatwork channel: an API token of the account that posts (Chatwork: Service integration → API token)')
}

export function notificationChannelsResource (deps: ResourceDeps & { alerts: AlertSender }) {
  const { db } = deps
  const sealing = { deny: deps.config.outboundDeny, secrets: deps.secrets }

  function present (row: Selectable<NotificationChannelsTable>, signingSecret?: string): ChannelView {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      events: row.events,
      urlHost: row.url_hint,
      roomId: row.room_id,
      token: marker(row.kind === 'chatwork' ? row.secret_enc : null),
      secret: marker(row.kind === 'webhook' ? row.secret_enc : null),
      recipients: row.recipients,
      digest: row.digest,
      failingSince: row.failing_since?.toISOString() ?? null,
      lastError: row.last_error,
      ...(signingSecret !== undefined ? { signingSecret } : {}),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    }
  }

  function presentDelivery (row: Selectable<ChannelDeliveriesTable>): DeliveryView {
    return {
      id: row.id,
      webhookId: `msg_${row.id}`,
      event: row.event_type,
      state: row.state,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastAnswer: row.last_answer,
      createdAt: row.created_at.toISOString(),
      sentAt: row.sent_at?.toISOString() ?? null,
      nextAttemptAt: row.state === 'pending' ? row.next_attempt_at.toISOString() : null
    }
  }

  /** A new digest choice starts with the next period: the one due now counts as told. */
  async function digestColumns (tenantId: string, digest: 'daily' | 'weekly' | null): Promise<{ digest: 'daily' | 'weekly' | null, digest_period: string | null }> {
    if (digest === null) return { digest: null, digest_period: null }
    const tenant = await db.selectFrom('tenants').select('time_zone').where('id', '=', tenantId).executeTakeFirstOrThrow()
    return { digest, digest_period: duePeriod(digest, new Date(), tenant.time_zone).key }
  }

  async function row (tenantId: string, id: string): Promise<Selectable<NotificationChannelsTable>> {
    const found = await db.selectFrom('notification_channels').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (found === undefined) throw notFound(id)
    return found
  }

  const nameTaken = (name: string): Error => new errors.Conflict(`a notification channel named "${name}" exists: choose another name`)

  return {
    async list (tenantId: string, query: PageQuery): Promise<PageOf<ChannelView>> {
      const { items, nextCursor } = await newestFirst(db.selectFrom('notification_channels').selectAll().where('tenant_id', '=', tenantId), 'notification_channels', 'created_at', query, cursorScope(deps, tenantId))
      return { items: items.map((r) => present(r)), nextCursor }
    },

    async get (tenantId: string, id: string): Promise<ChannelView> {
      return present(await row(tenantId, id))
    },

    async create (tenantId: string, body: Create): Promise<ChannelView> {
      refusePlaceholders(body)
      checkFields(body.kind, body, true)
      if (body.events.length === 0 && (body.digest ?? null) === null) throw fieldError('events', 'choose at least one event, or a digest')
      const count = await db.selectFrom('notification_channels').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
      if (Number(count.n) >= MAX_CHANNELS) throw new errors.Conflict(`a tenant has at most ${MAX_CHANNELS} notification channels: delete one first`)
      const signingSecret = body.kind === 'webhook' ? newSigningSecret() : undefined
      const url = body.url !== undefined ? await sealedUrl(sealing, 'url', body.url) : { url_enc: null, url_hint: null }
      try {
        const created = await db.insertInto('notification_channels').values({
          tenant_id: tenantId,
          name: body.name,
          kind: body.kind,
          events: JSON.stringify(body.events),
          ...url,
          secret_enc: signingSecret !== undefined ? deps.secrets.seal(signingSecret) : body.token !== undefined ? deps.secrets.seal(body.token) : null,
          room_id: body.roomId ?? null,
          recipients: JSON.stringify(body.recipients ?? []),
          ...await digestColumns(tenantId, body.digest ?? null)
        }).returningAll().executeTakeFirstOrThrow()
        return present(created, signingSecret)
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(body.name)
        throw error
      }
    },

    async update (tenantId: string, id: string, body: Patch): Promise<ChannelView> {
      const current = await row(tenantId, id)
      refusePlaceholders(body)
      checkFields(current.kind, body, false)
      const digest = body.digest !== undefined ? body.digest : current.digest
      if ((body.events ?? current.events).length === 0 && digest === null) throw fieldError('events', 'choose at least one event, or a digest')
      const signingSecret = body.rotateSecret === true ? newSigningSecret() : undefined
      try {
        const updated = await db.updateTable('notification_channels').set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.events !== undefined ? { events: JSON.stringify(body.events) } : {}),
          ...(body.url !== undefined ? await sealedUrl(sealing, 'url', body.url) : {}),
          ...(body.roomId !== undefined ? { room_id: body.roomId } : {}),
          ...(body.recipients !== undefined ? { recipients: JSON.stringify(body.recipients) } : {}),
          ...(body.digest !== undefined && body.digest !== current.digest ? await digestColumns(tenantId, body.digest) : {}),
          ...(signingSecret !== undefined ? { secret_enc: deps.secrets.seal(signingSecret) } : body.token !== undefined ? { secret_enc: deps.secrets.seal(body.token) } : {}),
          updated_at: new Date()
        }).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst()
        if (updated === undefined) throw notFound(id)
        return present(updated, signingSecret)
      } catch (error) {
        if (isUniqueViolation(error) && body.name !== undefined) throw nameTaken(body.name)
        throw error
      }
    },

    async remove (tenantId: string, id: string): Promise<void> {
      const deleted = await db.deleteFrom('notification_channels').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw notFound(id)
    },

    /** Sends a `test` event now and answers how the channel took it (a failed test is retried like any delivery). */
    async test (tenantId: string, id: string): Promise<Static<typeof ChannelTestResult>> {
      const channel = await row(tenantId, id)
      const delivery = await db.insertInto('channel_deliveries').values({ channel_id: channel.id, tenant_id: tenantId, event_type: 'test', data: JSON.stringify({ channel: channel.name }) })
        .returning('id').executeTakeFirstOrThrow()
      const result = await deps.alerts.deliverNow(delivery.id)
      const after = await db.selectFrom('channel_deliveries').selectAll().where('id', '=', delivery.id).executeTakeFirstOrThrow()
      return { ok: result.ok, delivery: presentDelivery(after) }
    },

    async deliveries (tenantId: string, id: string, query: PageQuery): Promise<PageOf<DeliveryView>> {
      await row(tenantId, id)
      const { items, nextCursor } = await newestFirst(db.selectFrom('channel_deliveries').selectAll().where('tenant_id', '=', tenantId).where('channel_id', '=', id), 'channel_deliveries', 'created_at', query, cursorScope(deps, tenantId))
      return { items: items.map(presentDelivery), nextCursor }
    }
  }
}

export type NotificationChannelsResource = ReturnType<typeof notificationChannelsResource>
