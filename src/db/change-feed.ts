import { EventEmitter } from 'node:events'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.js'

// Tells every instance on the database that a row changed, so work that follows the row (the
// IMAP watcher of a mailbox) starts over at once instead of at its next periodic pass. On
// PostgreSQL it is LISTEN/NOTIFY, which reaches the other instances too; PGlite is one process
// (its data directory is locked), so an in-process emitter reaches everyone there is. A lost
// notification costs only speed: the periodic passes read the same rows.

/** mailbox: a mailbox row (its id); tenant: what deciding a tenant's mail reads — its settings, senders, robots (the tenant's id). */
export type ChangeTopic = 'mailbox' | 'tenant'

export interface ChangeFeed {
  /** Tells the listeners that the row `id` of `topic` changed. */
  announce: (topic: ChangeTopic, id: string) => Promise<void>
  /**
   * Calls `onChange` with each announced id; with null after the feed's connection was lost and
   * made again, when an announcement may have been missed. Answers how to stop listening.
   */
  listen: (topic: ChangeTopic, onChange: (id: string | null) => void) => Promise<() => Promise<void>>
}

const channel = (topic: ChangeTopic): string => `mailrun_${topic}_changed`

export function inProcessChangeFeed (): ChangeFeed {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(0)
  return {
    async announce (topic, id) { emitter.emit(topic, id) },
    async listen (topic, onChange) {
      emitter.on(topic, onChange)
      return async () => { emitter.off(topic, onChange) }
    }
  }
}

/** LISTEN on a connection of its own (a pooled one is handed to others between queries). */
export function postgresChangeFeed (url: string, db: Kysely<Database>, retryMs = 2000): ChangeFeed {
  // This instance's own listeners hear its announcements at once, not when NOTIFY comes back
  // around: the next request here must see the change it follows.
  const local = inProcessChangeFeed()
  return {
    async announce (topic, id) {
      await sql`select pg_notify(${channel(topic)}, ${id})`.execute(db)
      await local.announce(topic, id)
    },
    async listen (topic, onChange) {
      const stopLocal = await local.listen(topic, onChange)
      let stopped = false
      let client: pg.Client | null = null
      let timer: NodeJS.Timeout | null = null
      const connect = async (again: boolean): Promise<void> => {
        if (stopped) return
        const next = new pg.Client({ connectionString: url })
        const retry = (): void => {
          next.removeAllListeners()
          next.on('error', () => {})
          next.end().catch(() => {})
          if (client === next) client = null
          if (!stopped && timer === null) timer = setTimeout(() => { timer = null; connect(true).catch(() => {}) }, retryMs)
        }
        next.on('error', retry)
        next.on('end', retry)
        next.on('notification', (message) => { if (message.channel === channel(topic)) onChange(message.payload ?? null) })
        try {
          await next.connect()
          await next.query(`LISTEN ${channel(topic)}`)
          client = next
          if (again) onChange(null)
        } catch {
          retry()
        }
      }
      await connect(false)
      return async () => {
        stopped = true
        await stopLocal()
        if (timer !== null) clearTimeout(timer)
        const c = client
        client = null
        if (c !== null) { c.removeAllListeners(); c.on('error', () => {}); await c.end().catch(() => {}) }
      }
    }
  }
}
