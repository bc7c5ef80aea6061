import { sql } from 'kysely'
import type { ResourceDeps } from './context.js'

// What a tenant sees first: what happened today and this week, what went wrong last, and whether
// the parts mailrun depends on (IMAP, Orchestrator, replies) are healthy. Every query reads a
// bounded number of rows whatever the volume: counters for the counts, indexes for the rest.

export interface Dashboard {
  messages: { today: Record<string, number>, week: Record<string, number> }
  launches: { today: Record<string, number>, week: Record<string, number> }
  /** Per hour over 7 days, oldest first: [hour (ms), messages, launches]. "Today" is the UTC day, as the console shows times in UTC. */
  hourly: Array<[number, number, number]>
  /** Over the last 24 hours. */
  latency: Array<{ door: string, folder: string | null, p50: number, p99: number, count: number }>
  problems: Array<{ id: string, at: string, status: string, from: string | null, reason: string | null }>
  mailboxes: Array<{ id: string, address: string, active: boolean, imap: boolean, lastSweptAt: string | null, lastError: string | null }>
  orchestrator: { configured: boolean, url: string | null, lastError: string | null, lastErrorAt: string | null }
  failingReplies: number
}

export function dashboardResource (deps: ResourceDeps) {
  const { db } = deps
  return {
    async read (tenantId: string, now = new Date()): Promise<Dashboard> {
      const week = new Date(now.getTime() - 7 * 24 * 3600_000)
      const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
      const day = new Date(now.getTime() - 24 * 3600_000)
      // Counts and the hourly chart from the trigger-kept counters (activity_hourly): a few hundred
      // rows however many messages the week held.
      const rows = await db.selectFrom('activity_hourly').select(['hour', 'kind', 'state', (eb) => eb.fn.sum<string | number>('n').as('n')])
        .where('tenant_id', '=', tenantId).where('hour', '>=', sql<Date>`date_trunc('hour', ${week}::timestamptz)`).groupBy(['hour', 'kind', 'state']).execute()
      const messagesToday: Record<string, number> = {}
      const messagesWeek: Record<string, number> = {}
      const launchesToday: Record<string, number> = {}
      const launchesWeek: Record<string, number> = {}
      const firstHour = Math.floor(week.getTime() / 3600_000) * 3600_000
      const hourly: Array<[number, number, number]> = []
      for (let hour = firstHour; hour <= now.getTime(); hour += 3600_000) hourly.push([hour, 0, 0])
      for (const r of rows) {
        const n = Number(r.n)
        if (n === 0) continue
        const at = new Date(r.hour).getTime()
        const [weekCounts, todayCounts, column] = r.kind === 'message' ? [messagesWeek, messagesToday, 1] as const : [launchesWeek, launchesToday, 2] as const
        weekCounts[r.state] = (weekCounts[r.state] ?? 0) + n
        if (at >= today.getTime()) todayCounts[r.state] = (todayCounts[r.state] ?? 0) + n
        const slot = hourly[Math.floor((at - firstHour) / 3600_000)]
        if (slot !== undefined) slot[column] += n
      }

      const latency = await sql<{ door: string, folder: string | null, p50: number, p99: number, count: string | number }>`
        select door, imap_folder as folder, percentile_cont(0.5) within group (order by detection_latency_ms) as p50,
          percentile_cont(0.99) within group (order by detection_latency_ms) as p99, count(*) as count
        from messages where tenant_id = ${tenantId} and received_at >= ${day} and detection_latency_ms is not null
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
