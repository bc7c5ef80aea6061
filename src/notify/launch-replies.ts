import { sql, type Insertable, type Kysely, type Transaction } from 'kysely'
import type { Database, NotificationsTable, ReplyTo } from '../db/schema.js'
import type { LaunchPlan } from '../commands/validate-plan.js'
import type { Locale, ReplyContent } from './compose-reply.js'
import { replyCheckColumns, replyRow } from './outbox.js'

export interface ReplyLimits { perHour: number, giveUpMs: number }

export interface LaunchContext {
  robot: string
  plan: LaunchPlan
  queue: string | null
  jobId: number | null
  launchedAt: Date | null
  finishedAt: Date | null
  info: string | null
  outputs: Record<string, unknown> | null
}

/** What a launch's reply is made of: the launch, its message, tenant and robot, and the reply checks. */
export interface ReplyContextRow {
  tenant_id: string
  mailbox_id: string
  message_id: string
  reply_to: unknown
  locale: string
  robot_name: string | null
  launch_mode: string | null
  queue_name: string | null
  plan: unknown
  job_id: number | null
  launched_at: Date | null
  finished_at: Date | null
  job_info: string | null
  output_arguments: Record<string, unknown> | null
  own: boolean | null
  recent: number | string | null
}

/** The columns of a ReplyContextRow, for a query over launches joined with messages, tenants and (left) robots. */
export function replyContextColumns (limits: ReplyLimits) {
  return [
    'launches.tenant_id', 'messages.mailbox_id', 'messages.id as message_id', 'messages.reply_to', 'tenants.locale', 'robots.name as robot_name', 'robots.launch_mode', 'robots.queue_name',
    'launches.plan', 'launches.job_id', 'launches.launched_at', 'launches.finished_at', 'launches.job_info', 'launches.output_arguments',
    ...replyCheckColumns(sql<string>`lower(messages.reply_to->>'to')`, limits.perHour)
  ] as const
}

/** The notification row (pending or suppressed) for a launch's reply, from its context; null when nobody is to be answered. */
export function replyRowFrom (row: ReplyContextRow, launchId: string, limits: ReplyLimits, build: (launch: LaunchContext) => ReplyContent): Insertable<NotificationsTable> | null {
  if (row.reply_to === null) return null
  const content = build({
    robot: row.robot_name ?? '',
    plan: row.plan as LaunchPlan,
    queue: row.launch_mode === 'queue' ? row.queue_name : null,
    jobId: row.job_id,
    launchedAt: row.launched_at,
    finishedAt: row.finished_at,
    info: row.job_info,
    outputs: row.output_arguments
  })
  const target = { tenantId: row.tenant_id, mailboxId: row.mailbox_id, messageId: row.message_id, launchId, replyTo: row.reply_to as ReplyTo, locale: row.locale as Locale }
  return replyRow(target, content, limits, { own: row.own === true, recent: Number(row.recent) })
}

/** The notification row a launch transition's reply becomes, read in one query (context and checks); null when the launch has nobody to answer. */
export async function launchReplyRow (db: Kysely<Database> | Transaction<Database>, launchId: string, limits: ReplyLimits, build: (launch: LaunchContext) => ReplyContent): Promise<Insertable<NotificationsTable> | null> {
  const row = await db.selectFrom('launches')
    .innerJoin('messages', 'messages.id', 'launches.message_id')
    .innerJoin('tenants', 'tenants.id', 'launches.tenant_id')
    .leftJoin('robots', 'robots.id', 'launches.robot_id')
    .select(replyContextColumns(limits))
    .where('launches.id', '=', launchId).executeTakeFirst()
  return row === undefined ? null : replyRowFrom(row, launchId, limits, build)
}

/** Queues the reply a launch transition calls for, in the caller's transaction (after the change, so the reply sees it). */
export async function queueLaunchReply (db: Kysely<Database> | Transaction<Database>, launchId: string, limits: ReplyLimits, build: (launch: LaunchContext) => ReplyContent): Promise<void> {
  const row = await launchReplyRow(db, launchId, limits, build)
  if (row !== null) await db.insertInto('notifications').values(row).execute()
}
