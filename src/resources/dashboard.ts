import { sql } from 'kysely'
import type { ResourceDeps } from './context.js'

// What a tenant sees first: what happened today and this week, what went wrong last, and whether
// the parts mailrun depends on (IMAP, Orchestrator, replies) are healthy. A handful of aggregate
// queries, each bounded by the tenant and the last 7 days (indexes: messages and launches by
// tenant and time).

export interface Dashboard {
  messages: { today: Record<string, number>, week: Record<string, number> }
  launches: { today: Record<string, number>, week: Record<string, number> }
  /** Per hour over 7 days, oldest first: [hour (ms), messages, launches]. */
  hourly: Array<[number, number, number]>
  latency: Array<{ door: string, folder: string | null, p50: number, p99: number, count: number }>
  problems: Array<{ id: string, at: string, status: string, from: string | null, reason: string | null }>
  mailboxes: Array<{ id: string, address: string, active: boolean, imap: boolean, lastSweptAt: string | null, lastError: string | null }>
  orchestrator: { configured: boolean, url: string | null, lastError: string | null, lastErrorAt: string | null }
  failingReplies: number
}

const counts = (rows: Array<{ key: string, n: unknown }>): Record<string, number> => Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]))

export function dashboardResource (deps: ResourceDeps) {
  const { db } = deps
  return {
    async read (tenantId: string, now = new Date()): Promise<Dashboard> {
      const week = new Date(now.getTime() - 7 * 24 * 3600_000)
      const today = new Date(now.getFullYear(), now.getMonth(), now.getDate())
      const messageCounts = async (since: Date) => counts(await db.selectFrom('messages').select(['status as key', (eb) => eb.fn.countAll().as('n')])
        .where('tenant_id', '=', tenantId).where('received_at', '>=', since).groupBy('status').execute())
      const launchCounts = async (since: Date) => counts(await db.selectFrom('launches').select(['state as key', (eb) => eb.fn.countAll().as('n')])
        .where('tenant_id', '=', tenantId).where('created_at', '>=', since).groupBy('state').execute())
      const perHour = async (table: 'messages' | 'launches', column: 'received_at' | 'created_at') => await sql<{ hour: Date, n: string | number }>`
        select date_trunc('hour', ${sql.ref(column)}) as hour, count(*) as n from ${sql.table(table)}
        where tenant_id = ${tenantId} and ${sql.ref(column)} >= ${week} group by 1`.execute(db)
      const [messagesToday, messagesWeek, launchesToday, launchesWeek, messageHours, launchHours] = await Promise.all([
        messageCounts(today), messageCounts(week), launchCounts(today), launchCounts(week), perHour('messages', 'received_at'), perHour('launches', 'created_at')
      ])
      const firstHour = Math.floor(week.getTime() / 3600_000) * 3600_000
      const hourly: Array<[number, number, number]> = []
      for (let hour = firstHour; hour <= now.getTime(); hour += 3600_000) hourly.push([hour, 0, 0])
      const slot = (d: Date): [number, number, number] | undefined => hourly[Math.floor((new Date(d).getTime() - firstHour) / 3600_000)]
      for (const r of messageHours.rows) { const s = slot(r.hour); if (s !== undefined) s[1] = Number(r.n) }
      for (const r of launchHours.rows) { const s = slot(r.hour); if (s !== undefined) s[2] = Number(r.n) }

      const latency = await sql<{ door: string, folder: string | null, p50: number, p99: number, count: string | number }>`
        select door, imap_folder as folder, percentile_cont(0.5) within group (order by detection_latency_ms) as p50,
          percentile_cont(0.99) within group (order by detection_latency_ms) as p99, count(*) as count
        from messages where tenant_id = ${tenantId} and received_at >= ${week} and detection_latency_ms is not null
        group by door, imap_folder order by door, imap_folder`.execute(db)
      const problems = await db.selectFrom('messages').select(['id', 'received_at', 'status', 'from_address', 'reason'])
        .where('tenant_id', '=', tenantId).where('status', 'in', ['rejected', 'failed']).orderBy('received_at', 'desc').limit(10).execute()
      const mailboxes = await db.selectFrom('mailboxes').select(['id', 'address', 'active', 'imap', 'imap_last_swept_at', 'imap_last_error'])
        .where('tenant_id', '=', tenantId).orderBy('address').execute()
      const connection = await db.selectFrom('orchestrator_connections').select(['url']).where('tenant_id', '=', tenantId).executeTakeFirst()
      const lastFailure = await db.selectFrom('launches').select(['last_error', 'updated_at']).where('tenant_id', '=', tenantId).where('last_error', 'is not', null)
        .where('updated_at', '>=', week).orderBy('updated_at', 'desc').limit(1).executeTakeFirst()
      const failing = await db.selectFrom('notifications').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('state', '=', 'failed')
        .where('created_at', '>=', week).executeTakeFirstOrThrow()
      return {
        messages: { today: messagesToday, week: messagesWeek },
        launches: { today: launchesToday, week: launchesWeek },
        hourly,
        latency: latency.rows.map((r) => ({ door: r.door, folder: r.folder, p50: Math.round(Number(r.p50)), p99: Math.round(Number(r.p99)), count: Number(r.count) })),
        problems: problems.map((p) => ({ id: p.id, at: p.received_at.toISOString(), status: p.status, from: p.from_address, reason: p.reason })),
        mailboxes: mailboxes.map((m) => ({ id: m.id, address: m.address, active: m.active, imap: m.imap !== null, lastSweptAt: m.imap_last_swept_at?.toISOString() ?? null, lastError: m.imap_last_error })),
        orchestrator: { configured: connection !== undefined, url: connection?.url ?? null, lastError: lastFailure?.last_error ?? null, lastErrorAt: lastFailure?.updated_at.toISOString() ?? null },
        failingReplies: Number(failing.n)
      }
    }
  }
}

export type DashboardResource = ReturnType<typeof dashboardResource>
