import { sql, type Kysely, type Transaction } from 'kysely'
import type { Logger } from 'pino'
import { missedCanaries } from '../canary/canary-watch.js'
import type { Database } from '../db/schema.js'
import { STUCK_AFTER_MS } from '../pipeline/undecided.js'
import { insertTeamEvent, type TeamEvent } from './team-events.js'

// Conditions a team must hear of without looking at mailrun, each told once: a watch pass (every
// 15 s, in every replica) reads what is failing now, opens an incident for what is new — with its
// alert in the same transaction — and closes what has cleared (a mailbox's with
// "mailbox.recovered"). The unique index on open incidents makes replicas that notice together
// open one. Each reading is one indexed query over the whole instance, whatever the tenant count.

export type IncidentKind = 'mailbox.failing' | 'orchestrator.failing' | 'replies.failing' | 'messages.stuck' | 'canary.missed'

interface Finding { tenantId: string, kind: IncidentKind, subject: string, data: Record<string, unknown> }

export interface IncidentWatchDeps {
  db: Kysely<Database>
  logger: Logger
  /** How long a mailbox or a reply must keep failing before the team is told (MAILRUN_ALERT_AFTER_S). */
  afterMs: number
}

/** Launch errors that mean the connection itself is wrong: sign-in, permissions, the folder. */
const CONNECTION_FAULT = '^authentication \\(|did not accept the credentials|lack a permission|folder .* was not found|names no folder|no Orchestrator connection'

const since = (ms: number) => sql<Date>`now() - ${`${ms} milliseconds`}::interval`

async function failingMailboxes (db: Kysely<Database>, afterMs: number): Promise<Finding[]> {
  const rows = await db.selectFrom('mailboxes')
    .select(['id', 'tenant_id', 'address', 'imap_last_error', 'imap_last_error_at', 'imap_last_swept_at', 'imap_configured_at', 'graph_last_error', 'graph_last_error_at'])
    .where('active', '=', true)
    .where((eb) => eb.or([
      eb.and([eb('imap_last_error_at', 'is not', null), eb(sql`coalesce(imap_last_swept_at, imap_configured_at)`, '<', since(afterMs))]),
      eb.and([eb('graph_last_error_at', 'is not', null), eb(sql`coalesce(graph_last_synced_at, graph_configured_at)`, '<', since(afterMs))])
    ])).execute()
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    kind: 'mailbox.failing',
    subject: r.id,
    data: { mailboxId: r.id, mailbox: r.address, error: r.imap_last_error ?? r.graph_last_error, lastReadAt: r.imap_last_swept_at?.toISOString() ?? null }
  }))
}

async function refusedReplies (db: Kysely<Database>, afterMs: number): Promise<Finding[]> {
  const rows = await db.selectFrom('notifications as n').innerJoin('mailboxes as m', 'm.id', 'n.mailbox_id')
    .select(['n.mailbox_id', 'm.tenant_id', 'm.address', sql<string>`max(n.last_error)`.as('error'), sql<string>`count(*)`.as('waiting')])
    .where('n.state', 'in', ['pending', 'failed']).where('n.last_error', 'is not', null)
    .where('n.created_at', '<', since(afterMs)).where('n.created_at', '>', since(24 * 3600_000))
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('notifications as s').select('s.id').whereRef('s.mailbox_id', '=', 'n.mailbox_id').where('s.state', '=', 'sent').whereRef('s.sent_at', '>', 'n.created_at'))))
    .groupBy(['n.mailbox_id', 'm.tenant_id', 'm.address']).execute()
  return rows.map((r) => ({ tenantId: r.tenant_id, kind: 'replies.failing', subject: r.mailbox_id ?? '', data: { mailboxId: r.mailbox_id, mailbox: r.address, error: r.error, waiting: Number(r.waiting) } }))
}

async function stuckMessages (db: Kysely<Database>): Promise<Finding[]> {
  const rows = await db.selectFrom('messages').select(['tenant_id', sql<string>`count(*)`.as('count'), sql<Date>`min(received_at)`.as('oldest')])
    .where('status', '=', 'received').where('received_at', '<', since(STUCK_AFTER_MS)).groupBy('tenant_id').execute()
  return rows.map((r) => ({ tenantId: r.tenant_id, kind: 'messages.stuck', subject: r.tenant_id, data: { count: Number(r.count), oldest: new Date(r.oldest).toISOString() } }))
}

async function refusingOrchestrator (db: Kysely<Database>): Promise<Finding[]> {
  const rows = await db.selectFrom('launches as l').leftJoin('robots as r', 'r.id', 'l.robot_id')
    .select(['l.tenant_id', 'l.id', 'l.last_error', 'r.name as robot'])
    .where('l.state', 'in', ['failed', 'pending']).where('l.updated_at', '>', since(3600_000))
    .where(sql<boolean>`l.last_error ~ ${CONNECTION_FAULT}`)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('launches as ok').select('ok.id').whereRef('ok.tenant_id', '=', 'l.tenant_id').whereRef('ok.launched_at', '>', 'l.updated_at'))))
    .orderBy('l.updated_at', 'desc').execute()
  const newest = new Map<string, typeof rows[number]>()
  for (const r of rows) if (!newest.has(r.tenant_id)) newest.set(r.tenant_id, r)
  return [...newest.values()].map((r) => ({ tenantId: r.tenant_id, kind: 'orchestrator.failing', subject: r.tenant_id, data: { launchId: r.id, robot: r.robot, error: r.last_error } }))
}

/** Mailboxes whose latest canary was not found by its deadline. */
async function canaryFindings (db: Kysely<Database>): Promise<Finding[]> {
  return (await missedCanaries(db)).map((m) => ({
    tenantId: m.tenantId, kind: 'canary.missed', subject: m.mailboxId, data: { mailboxId: m.mailboxId, mailbox: m.address, sentAt: m.sentAt.toISOString(), error: m.sendError }
  }))
}

/** Whether the mailbox of a mailbox or canary incident is still active and still watched that way. */
async function stillWatched (db: Kysely<Database> | Transaction<Database>, mailboxId: string, kind: string): Promise<boolean> {
  const row = await db.selectFrom('mailboxes').select(['active', 'imap', 'graph', 'canary']).where('id', '=', mailboxId).executeTakeFirst()
  if (row === undefined || !row.active) return false
  return kind === 'canary.missed' ? row.canary !== null : row.imap !== null || row.graph !== null
}

export function createIncidentWatch (deps: IncidentWatchDeps): { watch: () => Promise<{ opened: number, closed: number }> } {
  const { db } = deps
  const key = (f: { tenantId: string, kind: string, subject: string }): string => `${f.tenantId}|${f.kind}|${f.subject}`

  return {
    async watch () {
      const findings = [
        ...await failingMailboxes(db, deps.afterMs),
        ...await refusedReplies(db, deps.afterMs),
        ...await stuckMessages(db),
        ...await refusingOrchestrator(db),
        ...await canaryFindings(db)
      ]
      const open = await db.selectFrom('incidents').select(['id', 'tenant_id', 'kind', 'subject', 'data', 'opened_at']).where('closed_at', 'is', null).execute()
      const openKeys = new Set(open.map((o) => key({ tenantId: o.tenant_id, kind: o.kind, subject: o.subject })))
      const nowKeys = new Set(findings.map(key))
      let opened = 0
      let closed = 0
      for (const finding of findings.filter((f) => !openKeys.has(key(f)))) {
        const made = await db.transaction().execute(async (trx) => {
          const row = await trx.insertInto('incidents').values({ tenant_id: finding.tenantId, kind: finding.kind, subject: finding.subject, data: JSON.stringify(finding.data) })
            .onConflict((oc) => oc.columns(['tenant_id', 'kind', 'subject']).where('closed_at', 'is', null).doNothing()).returning('id').executeTakeFirst()
          if (row === undefined) return false
          await insertTeamEvent(trx, finding.tenantId, finding.kind, finding.data).execute()
          return true
        })
        if (made) { opened++; deps.logger.warn({ tenantId: finding.tenantId, incident: finding.kind }, 'incident opened: the team is told') }
      }
      for (const incident of open.filter((o) => !nowKeys.has(key({ tenantId: o.tenant_id, kind: o.kind, subject: o.subject })))) {
        const ended = await db.transaction().execute(async (trx) => {
          const row = await trx.updateTable('incidents').set({ closed_at: new Date() }).where('id', '=', incident.id).where('closed_at', 'is', null).returning('id').executeTakeFirst()
          if (row === undefined) return false
          const recovered: TeamEvent | null = incident.kind === 'mailbox.failing' ? 'mailbox.recovered' : incident.kind === 'canary.missed' ? 'canary.recovered' : null
          // Cleared because the mailbox (or its IMAP, Graph or canary) is gone or off, not because
          // it works again: closed without saying it recovered.
          if (recovered !== null && await stillWatched(trx, incident.subject, incident.kind)) await insertTeamEvent(trx, incident.tenant_id, recovered, { mailboxId: incident.data.mailboxId, mailbox: incident.data.mailbox, failingSince: incident.opened_at.toISOString() }).execute()
          return true
        })
        if (ended) closed++
      }
      return { opened, closed }
    }
  }
}
