import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { ImapFlow } from 'imapflow'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { ChangeFeed } from '../db/change-feed.js'
import type { Database, ImapSettings, SmtpSettings } from '../db/schema.js'
import { MailTokenError } from '../mail-auth/token-endpoint.js'
import type { MailCredential, MailTokens } from '../mail-auth/mail-tokens.js'
import type { OutboundDeny } from '../net/outbound-guard.js'
import type { Receiver } from '../pipeline/receive.js'
import { holdLeases, releaseLease } from './lease.js'
import { foldersToSweep } from './sweep-folder.js'
import { runSession } from './mailbox-session.js'
import { imapConnectOptions } from './connect-options.js'
import { stepWithin as withTimeout } from '../async/with-timeout.js'

// The safety net behind push delivery: every active mailbox with IMAP settings is watched by one
// replica (a lease in Postgres), INBOX with IDLE for near-instant pickup, and every folder that can
// hold new mail swept on an interval. A new ImapFlow client per connection; a dropped one is
// never reused.

export interface SweeperDeps {
  db: Kysely<Database>
  receiver: Receiver
  tokens: MailTokens
  logger: Logger
  deny: OutboundDeny
  intervalMs: number
  /** Without IMAP NOTIFY, how often the folders other than INBOX get a STATUS between full sweeps. */
  quietCheckMs?: number
  lookbackMs: number
  /** How often IDLE is re-issued: a few minutes, well under the 29 the RFC allows. */
  idleRestartMs?: number
  /** Leases expire this long after their last renewal: another replica takes over within it. */
  leaseMs?: number
  holder?: string
  /** Saved mailboxes announced here are watched (or watched anew) at once, not at the next pass. */
  changes?: ChangeFeed
}

export interface Sweeper {
  /** Starts watching; answers a function that stops everything and releases the leases. */
  start: () => () => Promise<void>
  /** Mailboxes this instance watches whose last successful sweep is older than twice the interval. */
  stalled: () => Promise<string[]>
  holder: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const AUTH_BACKOFF = { baseMs: 60_000, capMs: 30 * 60_000 }
const NETWORK_BACKOFF = { baseMs: 1_000, capMs: 60_000 }

/** Capped exponential backoff with jitter (each wait drawn from its upper half). */
export function reconnectDelay (failures: number, auth: boolean, random = Math.random): number {
  const { baseMs, capMs } = auth ? AUTH_BACKOFF : NETWORK_BACKOFF
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1))
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

/** What the mailbox's IMAP status says about a failed session, and whether it was the sign-in. */
export function imapFailure (error: unknown, credential: MailCredential | null): { text: string, auth: boolean } {
  if (error instanceof MailTokenError) return { text: `IMAP sign-in: no access token: ${error.message}`, auth: error.refused }
  const e = error as { authenticationFailed?: boolean, responseText?: string, response?: string, message?: string, code?: string }
  if (e.authenticationFailed !== true) return { text: `IMAP: ${e.message ?? String(error)}${e.code !== undefined ? ` (${e.code})` : ''}`, auth: false }
  const said = e.responseText ?? e.response ?? e.message ?? 'authentication failed'
  return credential !== null && 'accessToken' in credential
    ? { text: `IMAP login with an access token failed: ${said}; the token was issued, so check that the application may open this mailbox (docs/providers.md)`, auth: true }
    : { text: `IMAP login failed: ${said}; check the user and app password`, auth: true }
}

interface Worker {
  stop: () => Promise<void>
  lastSweepAt: number
  /** The settings it connected with (imap_configured_at): new ones start a new worker. */
  configuredAt: number | null
}

export function createSweeper (deps: SweeperDeps): Sweeper {
  const { db, logger } = deps
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  // Renewed every third of it: an instance that dies is taken over within about 20 s.
  const leaseMs = deps.leaseMs ?? 15_000
  const idleRestartMs = deps.idleRestartMs ?? 4 * 60_000
  const quietCheckMs = Math.min(deps.quietCheckMs ?? 8000, deps.intervalMs)
  const workers = new Map<string, Worker>()

  async function recordError (mailboxId: string, message: string | null): Promise<void> {
    await db.updateTable('mailboxes').set(message === null ? { imap_last_error: null, imap_last_error_at: null } : { imap_last_error: message, imap_last_error_at: new Date() })
      .where('id', '=', mailboxId).execute()
  }

  /** One mailbox: connect, sweep, idle, sweep again; on any fault close, wait, reconnect. */
  function watch (mailboxId: string, configuredAt: number | null): Worker {
    // Flags in an object: callbacks (IMAP events, stop) change them while the loops wait.
    const state = { stopped: false }
    let wake: (() => void) | null = null
    const connection: { client: ImapFlow | null, credential: MailCredential | null } = { client: null, credential: null }
    const worker: Worker = { stop: async () => {}, lastSweepAt: Date.now(), configuredAt }
    const sleep = async (ms: number): Promise<void> => await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { wake = null; resolve() }, ms)
      wake = () => { clearTimeout(timer); wake = null; resolve() }
    })

    const session = async (): Promise<void> => {
      const row = await db.selectFrom('mailboxes').select(['id', 'tenant_id', 'address', 'active', 'sender_auth', 'trusted_authserv_id', 'imap', 'imap_password_enc', 'imap_configured_at', 'smtp', 'smtp_password_enc'])
        .where('id', '=', mailboxId).executeTakeFirst()
      if (row === undefined || !row.active || row.imap === null) { state.stopped = true; return }
      const settings = row.imap as ImapSettings
      connection.credential = await deps.tokens.credential({ ...row, imap: settings, smtp: row.smtp as SmtpSettings | null }, 'imap')
      const options = await imapConnectOptions(deps.deny, settings, connection.credential)
      const mailbox = { id: row.id, tenantId: row.tenant_id, address: row.address, active: row.active, senderAuth: row.sender_auth, trustedAuthservId: row.trusted_authserv_id }
      const ctx = { db, receiver: deps.receiver, mailbox, notBefore: new Date((row.imap_configured_at ?? new Date()).getTime() - deps.lookbackMs), after: settings, created: new Set<string>(), logger: deps.logger }
      // Loaded with the first IMAP mailbox: an instance fed only by push never carries it.
      const { ImapFlow } = await import('imapflow')
      connection.client = new ImapFlow({
        ...options,
        socketTimeout: 5 * 60_000,
        maxIdleTime: idleRestartMs,
        // The session enters IDLE itself, right after its last command: imapflow's own waits for
        // a quiet moment first, and mail arriving in that moment waited for it.
        disableAutoIdle: true
      })
      const current = connection.client
      const link = { closed: false }
      current.on('close', () => { link.closed = true; wake?.() })
      current.on('error', () => { link.closed = true; wake?.() })
      await withTimeout(current.connect(), 30_000, 'connecting')
      await recordError(mailboxId, null)
      const folders = await withTimeout(foldersToSweep(current, settings.folders), 30_000, 'listing folders')
      await runSession({
        db,
        mailboxId,
        client: current,
        folders,
        ctx,
        intervalMs: deps.intervalMs,
        quietCheckMs,
        ended: () => state.stopped || link.closed,
        sleep,
        wake: () => { wake?.() },
        swept: () => { worker.lastSweepAt = Date.now() }
      }, (mode) => {
        logger.info({ mailbox: mailboxId, folders: folders.map((f) => f.path), mode }, mode === 'notify' ? 'IMAP watching every folder through NOTIFY' : 'IMAP watching INBOX through IDLE, other folders checked every few seconds')
      })
    }

    const loop = (async () => {
      let failures = 0
      while (!state.stopped) {
        let auth = false
        try {
          await session()
          failures = 0
        } catch (error) {
          failures++
          const reason = imapFailure(error, connection.credential)
          auth = reason.auth
          if (reason.auth && connection.credential !== null && 'accessToken' in connection.credential) {
            // Refused tokens are not reused: the next attempt asks the token endpoint again.
            deps.tokens.invalidate(mailboxId, connection.credential.accessToken)
          }
          logger.warn({ mailbox: mailboxId, failures, reason: reason.text }, 'IMAP session ended')
          await recordError(mailboxId, reason.text).catch(() => {})
        } finally {
          const c = connection.client
          connection.client = null
          if (c !== null) { try { c.close() } catch {} }
        }
        if (!state.stopped) await sleep(failures === 0 ? 1000 : reconnectDelay(failures, auth))
      }
    })()

    worker.stop = async () => {
      state.stopped = true
      wake?.()
      const c = connection.client
      if (c !== null) { try { c.close() } catch {} }
      await loop
    }
    return worker
  }

  /** Takes and renews leases and starts, restarts or stops workers: for every mailbox, or for `only` those. */
  async function tick (only: Set<string> | null): Promise<void> {
    let query = db.selectFrom('mailboxes').select(['id', 'imap_configured_at']).where('active', '=', true).where('imap', 'is not', null)
    if (only !== null) query = query.where('id', 'in', [...only])
    const rows = await query.execute()
    const configured = new Map(rows.map((r) => [r.id, r.imap_configured_at?.getTime() ?? null]))
    const held = await holdLeases(db, rows.map((r) => r.id), holder, leaseMs)
    for (const [id, worker] of workers) {
      if (only !== null && !only.has(id)) continue
      if (held.has(id) && worker.configuredAt === configured.get(id)) continue
      workers.delete(id)
      await worker.stop()
      // Changed settings: the lease is kept and a new worker connects with them just below.
      if (!held.has(id)) await releaseLease(db, id, holder)
    }
    for (const id of held) if (!workers.has(id)) workers.set(id, watch(id, configured.get(id) ?? null))
  }

  return {
    holder,
    start () {
      let running: Promise<void> = tick(null).catch((error: unknown) => { logger.error({ err: error }, 'IMAP sweeper pass failed') })
      // One pass waits at most: announcements arriving while one is queued join it. A saved
      // mailbox is a pass over that mailbox alone (a thousand saved in a row would otherwise be a
      // thousand passes over a thousand); anything else (a replica let go, the feed reconnected)
      // is a pass over all.
      let queued = false
      let all = false
      const ids = new Set<string>()
      const pass = (id: string | null): void => {
        if (id !== null && UUID.test(id)) ids.add(id)
        else all = true
        if (queued) return
        queued = true
        running = running.then(async () => {
          queued = false
          const only = all ? null : new Set(ids)
          all = false
          ids.clear()
          await tick(only)
        }).catch((error: unknown) => { logger.error({ err: error }, 'IMAP sweeper pass failed') })
      }
      const timer = setInterval(() => { pass(null) }, Math.min(10_000, leaseMs / 3))
      timer.unref()
      const listening = deps.changes?.listen('mailbox', pass).catch((error: unknown) => {
        logger.warn({ err: error }, 'not told of mailbox changes: new IMAP settings are picked up at the next pass')
        return null
      })
      return async () => {
        clearInterval(timer)
        await (await listening)?.()
        await running
        const released = workers.size > 0
        await Promise.all([...workers.entries()].map(async ([id, w]) => { await w.stop(); await releaseLease(db, id, holder).catch(() => {}) }))
        workers.clear()
        // The other instances take the released mailboxes now, not at their next pass.
        if (released) await deps.changes?.announce('mailbox', 'released').catch(() => {})
      }
    },
    async stalled () {
      const limit = Date.now() - 2 * deps.intervalMs
      return [...workers.entries()].filter(([, w]) => w.lastSweepAt < limit).map(([id]) => id)
    }
  }
}
