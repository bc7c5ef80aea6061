import { sql, type QueryCreator } from 'kysely'
import type { Database } from '../db/schema.js'

// What a tenant's team can be told, and how an event becomes deliveries: one row per channel that
// chose the event, written in the same statement or transaction as the change that causes it, so
// no event is told without its cause and none is lost in a restart.

export const TEAM_EVENTS = ['job.completed', 'job.faulted', 'job.stopped', 'launch.failed', 'mailbox.failing', 'mailbox.recovered', 'orchestrator.failing', 'replies.failing', 'messages.stuck', 'canary.missed', 'canary.recovered'] as const
export type TeamEvent = typeof TEAM_EVENTS[number]

/** What the event of a launch says beyond the launch itself. */
export interface LaunchEventDetail {
  state: 'completed' | 'faulted' | 'stopped' | 'failed'
  /** The job's Info (faulted, stopped) or why the launch gave up. */
  info: string | null
}

/** The event a finished job or a launch that gave up raises. */
export function launchEventType (state: LaunchEventDetail['state']): TeamEvent {
  return state === 'failed' ? 'launch.failed' : `job.${state}`
}

/** Channels (aliased `c`) that chose to hear of `type`. */
const choseEvent = (type: TeamEvent) => sql<boolean>`c.events @> ${JSON.stringify([type])}::jsonb`

/**
 * Inserts the deliveries of a launch's event for each of the tenant's channels that chose it; the
 * data is read from the launch, its robot and its message (the sender), plus `detail`, which
 * carries what the same statement may be changing. Usable as a CTE.
 */
export function insertLaunchEvent (qc: QueryCreator<Database>, launchId: string, detail: LaunchEventDetail) {
  const type = launchEventType(detail.state)
  return qc.insertInto('channel_deliveries')
    .columns(['channel_id', 'tenant_id', 'event_type', 'data'])
    .expression((eb) => eb.selectFrom('notification_channels as c')
      .innerJoin('launches as l', 'l.tenant_id', 'c.tenant_id')
      .innerJoin('messages as m', 'm.id', 'l.message_id')
      .leftJoin('robots as r', 'r.id', 'l.robot_id')
      .select([
        'c.id', 'c.tenant_id', sql<string>`${type}`.as('event_type'),
        sql<string>`jsonb_build_object('launchId', l.id, 'robot', r.name, 'sender', m.from_address, 'jobId', l.job_id, 'messageId', m.id, 'state', ${detail.state}::text, 'info', ${detail.info}::text)`.as('data')
      ])
      .where('l.id', '=', launchId)
      .where(choseEvent(type)))
}

/** Inserts the deliveries of an event with its data for each of the tenant's channels that chose it. */
export function insertTeamEvent (qc: QueryCreator<Database>, tenantId: string, type: TeamEvent, data: Record<string, unknown>) {
  return qc.insertInto('channel_deliveries')
    .columns(['channel_id', 'tenant_id', 'event_type', 'data'])
    .expression((eb) => eb.selectFrom('notification_channels as c')
      .select(['c.id', 'c.tenant_id', sql<string>`${type}`.as('event_type'), sql<string>`${JSON.stringify(data)}::jsonb`.as('data')])
      .where('c.tenant_id', '=', tenantId)
      .where(choseEvent(type)))
}
