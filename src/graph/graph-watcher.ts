import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Kysely, Selectable } from 'kysely'
import type { Logger } from 'pino'
import { sameSecret } from '../crypto/same-secret.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database, GraphSettings, ImapSettings, MailboxesTable, SmtpSettings } from '../db/schema.js'
import { holdLeases, releaseLease } from '../imap/lease.js'
import type { MailTokens } from '../mail-auth/mail-tokens.js'
import { MailTokenError } from '../mail-auth/token-endpoint.js'
import type { Receiver } from '../pipeline/receive.js'
import { createGraphClient, GraphError, type GraphClient, type GraphHttp } from './graph-client.js'

// Microsoft Graph push for mailboxes that sign in with Microsoft: a subscription per folder
// (Inbox and Junk Email) created and renewed well before it expires, each notification checked
// against the subscription's clientState and its message fetched as MIME into receive() (door
// `graph`), lifecycle events handled, and a delta query per folder on every pass as the fallback
// sweep: a lost notification, a replica that died after answering 202, a subscription Graph
// dropped — the next pass finds the message, and the same message twice launches once.

export const GRAPH_FOLDERS = [{ id: 'inbox', label: 'Inbox' }, { id: 'junkemail', label: 'Junk Email' }] as const

export interface GraphWatcherDeps {
  db: Kysely<Database>
  secrets: SecretBox
  tokens: MailTokens
  receiver: Receiver
  logger: Logger
  http: GraphHttp
  publicUrl: string
  intervalMs: number
  lookbackMs: number
  maxMessageBytes: number
  leaseMs?: number
  holder?: string
  /** How far ahead subscriptions are set to expire (Graph allows 10,080 minutes for messages). */
  subscriptionMs?: number
  /** A subscription closer than this to its expiry is renewed. */
  renewBeforeMs?: number
  sleep?: (ms: number) => Promise<void>
}

export interface GraphWatcher {
  start: () => () => Promise<void>
  /** A change-notification POST body: answers how many were taken and how many refused (clientState). */
  notifications: (body: unknown) => Promise<{ accepted: number, refused: number }>
  /** A lifecycle-notification POST body. */
  lifecycle: (body: unknown) => Promise<{ accepted: number, refused: number }>
  /** One pass over a mailbox now: subscriptions, then each folder's delta. */
  syncMailbox: (mailboxId: string) => Promise<void>
  /** Settles once the fetches notifications started are done (tests, shutdown). */
  idle: () => Promise<void>
}

type MailboxRow = Pick<Selectable<MailboxesTable>, 'id' | 'tenant_id' | 'address' | 'active' | 'sender_auth' | 'trusted_authserv_id' | 'graph' | 'graph_secret_enc' | 'graph_configured_at' | 'imap' | 'imap_password_enc' | 'smtp' | 'smtp_password_enc'>

interface Notification { subscriptionId?: unknown, clientState?: unknown, changeType?: unknown, lifecycleEvent?: unknown, resourceData?: { id?: unknown } }

const MAX_ITEMS = 1000
const MAX_PENDING = 5000

export function createGraphWatcher (deps: GraphWatcherDeps): GraphWatcher {
  const { db, logger } = deps
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const leaseMs = deps.leaseMs ?? 45_000
  const subscriptionMs = deps.subscriptionMs ?? 3 * 24 * 3600_000
  const renewBeforeMs = deps.renewBeforeMs ?? 24 * 3600_000
  const pending = new Set<Promise<void>>()
  const syncing = new Map<string, Promise<void>>()
  const base = deps.publicUrl.replace(/\/+$/, '')

  async function loadMailbox (id: string): Promise<(MailboxRow & { graph: GraphSettings }) | null> {
    const row = await db.selectFrom('mailboxes').select(['id', 'tenant_id', 'address', 'active', 'sender_auth', 'trusted_authserv_id', 'graph', 'graph_secret_enc', 'graph_configured_at', 'imap', 'imap_password_enc', 'smtp', 'smtp_password_enc'])
      .where('id', '=', id).executeTakeFirst()
    if (row === undefined || !row.active || row.graph === null) return null
    return row as MailboxRow & { graph: GraphSettings }
  }

  function clientFor (row: MailboxRow & { graph: GraphSettings }): GraphClient {
    const signIn = { ...row, imap: row.imap as ImapSettings | null, smtp: row.smtp as SmtpSettings | null, graph: row.graph }
    const token = async (): Promise<string> => {
      const c = await deps.tokens.credential(signIn, 'graph')
      return 'accessToken' in c ? c.accessToken : ''
    }
    return createGraphClient(deps.http, row.graph.baseUrl, token, deps.sleep, (refusedToken) => { deps.tokens.invalidate(row.id, refusedToken) })
  }

  const target = (row: MailboxRow) => ({ id: row.id, tenantId: row.tenant_id, address: row.address, active: row.active, senderAuth: row.sender_auth, trustedAuthservId: row.trusted_authserv_id })

  async function fetchAndReceive (row: MailboxRow & { graph: GraphSettings }, client: GraphClient, folder: string, messageId: string, receivedAt: Date | null): Promise<void> {
    const raw = await client.mime(row.graph.user, messageId, deps.maxMessageBytes)
    await deps.receiver.receive(target(row), {
      door: 'graph',
      raw,
      rawIsOriginal: true,
      envelopeFrom: null,
      provider: null,
      // The folder and arrival time go where IMAP's do: the dashboard's latency by door and folder.
      ...(receivedAt !== null ? { imap: { folder: GRAPH_FOLDERS.find((f) => f.id === folder)?.label ?? folder, internalDate: receivedAt } } : {})
    })
  }

  async function ensureSubscription (row: MailboxRow & { graph: GraphSettings }, client: GraphClient, folder: string): Promise<void> {
    const now = Date.now()
    const current = await db.selectFrom('graph_subscriptions').selectAll().where('mailbox_id', '=', row.id).where('folder', '=', folder).executeTakeFirst()
    const expiration = new Date(now + subscriptionMs).toISOString()
    if (current?.subscription_id != null && current.expires_at !== null && current.expires_at.getTime() - now > renewBeforeMs) return
    if (current?.subscription_id != null) {
      try {
        const renewed = await client.renewSubscription(current.subscription_id, expiration)
        await db.updateTable('graph_subscriptions').set({ expires_at: new Date(renewed.expirationDateTime), updated_at: new Date() }).where('mailbox_id', '=', row.id).where('folder', '=', folder).execute()
        return
      } catch (error) {
        // Gone (expired, removed by Graph): make a new one.
        if (!(error instanceof GraphError) || error.status !== 404) throw error
      }
    }
    const clientState = randomBytes(24).toString('base64url')
    // Graph calls the notification URL to validate before it answers here (the route echoes the token).
    const created = await client.createSubscription({
      changeType: 'created',
      notificationUrl: `${base}/graph/notifications`,
      lifecycleNotificationUrl: `${base}/graph/lifecycle`,
      resource: `users/${row.graph.user}/mailFolders('${folder}')/messages`,
      expirationDateTime: expiration,
      clientState
    })
    const values = { subscription_id: created.id, client_state_enc: deps.secrets.seal(clientState), expires_at: new Date(created.expirationDateTime), updated_at: new Date() }
    await db.insertInto('graph_subscriptions').values({ mailbox_id: row.id, folder, ...values, delta_link: current?.delta_link ?? null })
      .onConflict((oc) => oc.columns(['mailbox_id', 'folder']).doUpdateSet(values)).execute()
  }

  async function deltaSweep (row: MailboxRow & { graph: GraphSettings }, client: GraphClient, folder: string): Promise<void> {
    const notBefore = new Date((row.graph_configured_at ?? new Date()).getTime() - deps.lookbackMs)
    const current = await db.selectFrom('graph_subscriptions').select('delta_link').where('mailbox_id', '=', row.id).where('folder', '=', folder).executeTakeFirst()
    let page
    try {
      page = current?.delta_link != null ? await client.delta({ link: current.delta_link }) : await client.delta({ user: row.graph.user, folder, since: notBefore })
    } catch (error) {
      // An expired sync state (410) starts over from the configured moment; stored messages are recognised.
      if (!(error instanceof GraphError) || error.status !== 410) throw error
      page = await client.delta({ user: row.graph.user, folder, since: notBefore })
    }
    for (let pages = 0; pages < 10_000; pages++) {
      for (const item of page.value) {
        if (item['@removed'] !== undefined || typeof item.id !== 'string') continue
        const receivedAt = typeof item.receivedDateTime === 'string' ? new Date(item.receivedDateTime) : null
        if (receivedAt !== null && receivedAt < notBefore) continue
        await fetchAndReceive(row, client, folder, item.id, receivedAt)
      }
      const next = page['@odata.nextLink']
      if (next !== undefined) { page = await client.delta({ link: next }); continue }
      const deltaLink = page['@odata.deltaLink']
      if (deltaLink !== undefined) {
        // Advanced only once every message of the round is stored: a crash replays, never skips.
        await db.insertInto('graph_subscriptions').values({ mailbox_id: row.id, folder, delta_link: deltaLink })
          .onConflict((oc) => oc.columns(['mailbox_id', 'folder']).doUpdateSet({ delta_link: deltaLink, updated_at: new Date() })).execute()
      }
      return
    }
  }

  async function recordError (mailboxId: string, message: string | null): Promise<void> {
    await db.updateTable('mailboxes').set(message === null ? { graph_last_error: null, graph_last_error_at: null, graph_last_synced_at: new Date() } : { graph_last_error: message, graph_last_error_at: new Date() })
      .where('id', '=', mailboxId).execute()
  }

  function describe (error: unknown): string {
    if (error instanceof MailTokenError) return `Graph sign-in: no access token: ${error.message}`
    if (error instanceof GraphError && (error.status === 401 || error.status === 403)) return `${error.message}; the token was issued, so check the app's Mail.Read permission (admin consent) and that it may read this mailbox (docs/providers.md)`
    return error instanceof Error ? error.message : String(error)
  }

  async function syncOnce (mailboxId: string): Promise<void> {
    const row = await loadMailbox(mailboxId)
    if (row === null) return
    const client = clientFor(row)
    try {
      for (const { id } of GRAPH_FOLDERS) {
        await ensureSubscription(row, client, id)
        await deltaSweep(row, client, id)
      }
      await recordError(row.id, null)
    } catch (error) {
      const reason = describe(error)
      logger.warn({ mailbox: row.id, reason }, 'Graph pass failed')
      await recordError(row.id, reason).catch(() => {})
    }
  }

  /** One pass per mailbox at a time; a pass asked for during one runs once more after it. */
  function syncMailbox (mailboxId: string): Promise<void> {
    const running = syncing.get(mailboxId)
    const next = (running ?? Promise.resolve()).then(async () => { await syncOnce(mailboxId) }).finally(() => {
      if (syncing.get(mailboxId) === next) syncing.delete(mailboxId)
    })
    syncing.set(mailboxId, next)
    return next
  }

  function track (work: Promise<void>): void {
    pending.add(work)
    work.catch(() => {}).finally(() => pending.delete(work)).catch(() => {})
  }

  /** The subscription a notification names, if its clientState is the one we set. */
  async function verified (item: Notification): Promise<{ mailbox_id: string, folder: string, subscription_id: string } | null> {
    if (typeof item.subscriptionId !== 'string' || typeof item.clientState !== 'string' || item.subscriptionId.length > 200) return null
    const row = await db.selectFrom('graph_subscriptions').select(['mailbox_id', 'folder', 'subscription_id', 'client_state_enc']).where('subscription_id', '=', item.subscriptionId).executeTakeFirst()
    if (row?.client_state_enc == null || row.subscription_id === null) return null
    let expected: string
    try { expected = deps.secrets.open(row.client_state_enc) } catch { return null }
    return sameSecret(item.clientState, expected) ? { mailbox_id: row.mailbox_id, folder: row.folder, subscription_id: row.subscription_id } : null
  }

  const itemsOf = (body: unknown): Notification[] => {
    const value = (body as { value?: unknown } | null)?.value
    return Array.isArray(value) ? (value.slice(0, MAX_ITEMS).filter((item) => typeof item === 'object' && item !== null && !Array.isArray(item)) as Notification[]) : []
  }

  type Verified = NonNullable<Awaited<ReturnType<typeof verified>>>

  /** Runs `handle` for each item of a notification post that proves itself; counts the rest. */
  async function eachVerified (body: unknown, handle: (item: Notification, sub: Verified) => Promise<void>): Promise<{ accepted: number, refused: number }> {
    let accepted = 0
    let refused = 0
    for (const item of itemsOf(body)) {
      const sub = await verified(item)
      if (sub === null) { refused++; continue }
      accepted++
      await handle(item, sub)
    }
    if (refused > 0) logger.warn({ refused }, 'Graph notifications with an unknown subscription or a wrong clientState ignored')
    return { accepted, refused }
  }

  async function tick (): Promise<void> {
    const rows = await db.selectFrom('mailboxes').select('id').where('active', '=', true).where('graph', 'is not', null).execute()
    const held = await holdLeases(db, rows.map((r) => r.id), holder, leaseMs, 'graph_leases')
    for (const id of held) await syncMailbox(id)
  }

  return {
    start () {
      let stopped = false
      let running: Promise<void> = tick().catch((error: unknown) => { logger.error({ err: error }, 'Graph pass failed') })
      const timer = setInterval(() => {
        if (stopped) return
        running = running.then(async () => { await tick() }).catch((error: unknown) => { logger.error({ err: error }, 'Graph pass failed') })
      }, deps.intervalMs)
      timer.unref()
      return async () => {
        stopped = true
        clearInterval(timer)
        await running
        await Promise.allSettled([...pending])
        const rows = await db.selectFrom('graph_leases').select('mailbox_id').where('holder', '=', holder).execute().catch(() => [])
        for (const r of rows) await releaseLease(db, r.mailbox_id, holder, 'graph_leases').catch(() => {})
      }
    },

    async notifications (body) {
      const counts = await eachVerified(body, async (item, sub) => {
        const messageId = item.resourceData?.id
        if (item.changeType !== 'created' || typeof messageId !== 'string' || messageId.length > 1000) return
        if (pending.size >= MAX_PENDING) { track(syncMailbox(sub.mailbox_id)); return }
        // Answered 202 before the fetch: Graph wants an answer within seconds. Nothing is lost if
        // this process dies now: the delta pass finds the message.
        track((async () => {
          const row = await loadMailbox(sub.mailbox_id)
          if (row === null) return
          try {
            await fetchAndReceive(row, clientFor(row), sub.folder, messageId, null)
          } catch (error) {
            logger.warn({ mailbox: row.id, reason: describe(error) }, 'Graph message not fetched; the delta pass will')
          }
        })())
      })
      return counts
    },

    async lifecycle (body) {
      return await eachVerified(body, async (item, sub) => {
        logger.info({ mailbox: sub.mailbox_id, event: item.lifecycleEvent }, 'Graph lifecycle notification')
        if (item.lifecycleEvent === 'reauthorizationRequired') {
          track((async () => {
            const row = await loadMailbox(sub.mailbox_id)
            if (row === null) return
            try {
              await clientFor(row).reauthorize(sub.subscription_id)
            } catch {
              // Reauthorizing failed: a new subscription replaces it.
              await db.updateTable('graph_subscriptions').set({ subscription_id: null, client_state_enc: null }).where('mailbox_id', '=', sub.mailbox_id).where('folder', '=', sub.folder).execute()
              await syncMailbox(sub.mailbox_id)
            }
          })())
        } else if (item.lifecycleEvent === 'subscriptionRemoved') {
          await db.updateTable('graph_subscriptions').set({ subscription_id: null, client_state_enc: null }).where('mailbox_id', '=', sub.mailbox_id).where('folder', '=', sub.folder).execute()
          track(syncMailbox(sub.mailbox_id))
        } else if (item.lifecycleEvent === 'missed') {
          track(syncMailbox(sub.mailbox_id))
        }
      })
    },

    syncMailbox,

    async idle () {
      while (pending.size > 0 || syncing.size > 0) await Promise.allSettled([...pending, ...syncing.values()])
    }
  }
}
