import type { Kysely, Transaction } from 'kysely'
import type { Database, ReplyTo } from '../db/schema.js'
import type { LaunchPlan } from '../pipeline/validate-plan.js'
import type { Locale, ReplyContent } from './compose-reply.js'
import { queueReply } from './outbox.js'

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

/** Queues the reply a launch transition calls for, in the caller's transaction. */
export async function queueLaunchReply (db: Kysely<Database> | Transaction<Database>, launchId: string, limits: ReplyLimits, build: (launch: LaunchContext) => ReplyContent): Promise<void> {
  const row = await db.selectFrom('launches')
    .innerJoin('messages', 'messages.id', 'launches.message_id')
    .innerJoin('tenants', 'tenants.id', 'launches.tenant_id')
    .leftJoin('robots', 'robots.id', 'launches.robot_id')
    .select(['launches.tenant_id', 'messages.mailbox_id', 'messages.id as message_id', 'messages.reply_to', 'tenants.locale', 'robots.name as robot_name', 'robots.launch_mode', 'robots.queue_name',
      'launches.plan', 'launches.job_id', 'launches.launched_at', 'launches.finished_at', 'launches.job_info', 'launches.output_arguments'])
    .where('launches.id', '=', launchId).executeTakeFirst()
  if (row === undefined || row.reply_to === null) return
  const content = build({
    robot: row.robot_name ?? '',
    plan: row.plan as unknown as LaunchPlan,
    queue: row.launch_mode === 'queue' ? row.queue_name : null,
    jobId: row.job_id,
    launchedAt: row.launched_at,
    finishedAt: row.finished_at,
    info: row.job_info,
    outputs: row.output_arguments
  })
  await queueReply(db, { tenantId: row.tenant_id, mailboxId: row.mailbox_id, messageId: row.message_id, launchId, replyTo: row.reply_to as ReplyTo, locale: row.locale as Locale }, content, limits)
}
