import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, LaunchState, MessageStatus } from '../db/schema.js'

// What a digest says about a period: messages by outcome, launches by robot and outcome, the
// slowest and the most failing robots, senders refused, and how the mailboxes are. A few grouped
// queries over the tenant's indexed rows for the period; bounded lists (top 3, top 5).

export interface DigestSummary {
  kind: 'daily' | 'weekly'
  start: string
  end: string
  messages: Partial<Record<MessageStatus, number>>
  robots: Array<{ robot: string, launches: Partial<Record<LaunchState, number>> }>
  slowest: Array<{ robot: string, runs: number, averageSeconds: number, longestSeconds: number }>
  failing: Array<{ robot: string, failures: number }>
  refusedSenders: Array<{ sender: string, messages: number }>
  mailboxes: Array<{ mailbox: string, error: string | null }>
}

type Db = Kysely<Database> | Transaction<Database>

export async function summarize (db: Db, tenantId: string, kind: 'daily' | 'weekly', start: Date, end: Date): Promise<DigestSummary> {
  const messages = await db.selectFrom('messages').select(['status', sql<string>`count(*)`.as('n')])
    .where('tenant_id', '=', tenantId).where('received_at', '>=', start).where('received_at', '<', end).groupBy('status').execute()
  const launches = await db.selectFrom('launches as l').leftJoin('robots as r', 'r.id', 'l.robot_id')
    .select([sql<string>`coalesce(r.name, '?')`.as('robot'), 'l.state', sql<string>`count(*)`.as('n'),
      sql<string | null>`avg(extract(epoch from l.finished_at - l.launched_at))`.as('avg'), sql<string | null>`max(extract(epoch from l.finished_at - l.launched_at))`.as('max'),
      sql<string>`count(l.finished_at)`.as('finished')])
    .where('l.tenant_id', '=', tenantId).where('l.created_at', '>=', start).where('l.created_at', '<', end)
    .groupBy([sql`coalesce(r.name, '?')`, 'l.state']).execute()
  const refused = await db.selectFrom('messages').select([sql<string>`coalesce(from_address, '?')`.as('sender'), sql<string>`count(*)`.as('n')])
    .where('tenant_id', '=', tenantId).where('received_at', '>=', start).where('received_at', '<', end).where('status', 'in', ['rejected', 'ignored'])
    .groupBy(sql`coalesce(from_address, '?')`).orderBy(sql`count(*)`, 'desc').orderBy(sql`coalesce(from_address, '?')`).limit(5).execute()
  const mailboxes = await db.selectFrom('mailboxes').select(['address', 'imap_last_error', 'graph_last_error']).where('tenant_id', '=', tenantId).where('active', '=', true).orderBy('address').limit(20).execute()

  const robots = new Map<string, Partial<Record<LaunchState, number>>>()
  const runs = new Map<string, { runs: number, total: number, longest: number }>()
  for (const row of launches) {
    robots.set(row.robot, { ...robots.get(row.robot), [row.state]: Number(row.n) })
    const finished = Number(row.finished)
    if (finished > 0 && row.avg !== null && row.max !== null && ['completed', 'faulted', 'stopped'].includes(row.state)) {
      const r = runs.get(row.robot) ?? { runs: 0, total: 0, longest: 0 }
      runs.set(row.robot, { runs: r.runs + finished, total: r.total + Number(row.avg) * finished, longest: Math.max(r.longest, Number(row.max)) })
    }
  }
  const failures = (counts: Partial<Record<LaunchState, number>>): number => (counts.faulted ?? 0) + (counts.failed ?? 0)
  return {
    kind,
    start: start.toISOString(),
    end: end.toISOString(),
    messages: Object.fromEntries(messages.map((m) => [m.status, Number(m.n)])),
    robots: [...robots].map(([robot, counts]) => ({ robot, launches: counts })).sort((a, b) => a.robot.localeCompare(b.robot)),
    slowest: [...runs].map(([robot, r]) => ({ robot, runs: r.runs, averageSeconds: Math.round(r.total / r.runs), longestSeconds: Math.round(r.longest) }))
      .sort((a, b) => b.averageSeconds - a.averageSeconds).slice(0, 3),
    failing: [...robots].map(([robot, counts]) => ({ robot, failures: failures(counts) })).filter((f) => f.failures > 0)
      .sort((a, b) => b.failures - a.failures).slice(0, 3),
    refusedSenders: refused.map((r) => ({ sender: r.sender, messages: Number(r.n) })),
    mailboxes: mailboxes.map((m) => ({ mailbox: m.address, error: m.imap_last_error ?? m.graph_last_error }))
  }
}
