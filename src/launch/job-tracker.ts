import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database, LaunchState } from '../db/schema.js'
import type { Metrics } from '../metrics.js'
import { queueLaunchReply, type ReplyLimits } from '../notify/launch-replies.js'
import { loadConnection } from '../orchestrator/connection.js'
import { getJob, TERMINAL_JOB_STATES, type Job } from '../orchestrator/jobs.js'
import type { OrchestratorRegistry } from '../orchestrator/registry.js'

// A launched job is followed to its end: by the Orchestrator webhook when the tenant registered
// one, else (and as a safety net, since UiPath does not retry webhooks) by polling the single job.

const FINAL: Record<string, LaunchState> = { Successful: 'completed', Faulted: 'faulted', Stopped: 'stopped' }

export interface JobTrackerDeps {
  db: Kysely<Database>
  secrets: SecretBox
  orchestrator: OrchestratorRegistry
  logger: Logger
  pollIntervalMs: number
  metrics?: Metrics
  replies: ReplyLimits
  onReplyQueued?: () => void
}

function outputOf (job: Pick<Job, 'OutputArguments'>): Record<string, unknown> | null {
  const value = job.OutputArguments
  if (value === null || value === undefined || value === '') return null
  // The REST API gives a JSON string; webhooks give the object.
  if (typeof value === 'string') {
    try { return JSON.parse(value) as Record<string, unknown> } catch { return { raw: value } }
  }
  return value
}

/** Records a finished job on its launch, once: answers whether this call finished it. */
export interface OutcomeDeps { db: Kysely<Database>, replies: ReplyLimits, metrics?: Metrics, onReplyQueued?: () => void }

/** Records a finished job on its launch, once, with the "finished" reply: answers whether this call finished it. */
export async function recordJobOutcome (deps: OutcomeDeps, launchId: string, job: Pick<Job, 'State' | 'Info' | 'OutputArguments' | 'EndTime'>): Promise<boolean> {
  const state = FINAL[job.State]
  if (state === undefined) return false
  const finished = await deps.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('launches').set({
      state,
      job_info: job.Info ?? null,
      output_arguments: JSON.stringify(outputOf(job)),
      finished_at: job.EndTime !== null && job.EndTime !== undefined ? new Date(job.EndTime) : new Date(),
      next_attempt_at: null,
      updated_at: new Date()
    }).where('id', '=', launchId).where('state', '=', 'launched').executeTakeFirst()
    if (updated.numUpdatedRows === 0n) return false
    await trx.insertInto('launch_events').values({ launch_id: launchId, state, detail: `job ${job.State}${job.Info !== null && job.Info !== undefined ? `: ${job.Info}` : ''}` }).execute()
    await queueLaunchReply(trx, launchId, deps.replies, (l) => ({
      kind: 'finished',
      robot: l.robot,
      state: state as 'completed' | 'faulted' | 'stopped',
      jobId: l.jobId,
      runSeconds: l.launchedAt !== null && l.finishedAt !== null ? Math.max(0, (l.finishedAt.getTime() - l.launchedAt.getTime()) / 1000) : null,
      info: l.info,
      outputs: l.outputs
    }))
    return true
  })
  if (!finished) return false
  deps.metrics?.launches.inc({ state })
  deps.onReplyQueued?.()
  return true
}

/** The wait before the next look at a job: the interval at first, growing for long-running jobs. */
export function nextPollDelay (intervalMs: number, runningForMs: number): number {
  if (runningForMs < 10 * 60_000) return intervalMs
  if (runningForMs < 60 * 60_000) return intervalMs * 2
  return intervalMs * 4
}

export function createJobTracker (deps: JobTrackerDeps): { pollDue: (limit?: number) => Promise<number> } {
  const { db } = deps
  return {
    async pollDue (limit = 20) {
      // Claimed by pushing next_attempt_at ahead, so replicas do not poll the same job at once.
      const due = await db.transaction().execute(async (trx) => {
        const rows = await trx.selectFrom('launches').select(['id', 'tenant_id', 'robot_id', 'job_id', 'launched_at'])
          .where('state', '=', 'launched').where('job_id', 'is not', null)
          .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', sql<Date>`now()`)]))
          .orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked().execute()
        for (const row of rows) {
          const delay = nextPollDelay(deps.pollIntervalMs, Date.now() - (row.launched_at?.getTime() ?? Date.now()))
          await trx.updateTable('launches').set({ next_attempt_at: new Date(Date.now() + delay) }).where('id', '=', row.id).execute()
        }
        return rows
      })
      let finished = 0
      for (const row of due) {
        try {
          const connection = await loadConnection(db, deps.secrets, row.tenant_id)
          const robot = row.robot_id === null ? undefined : await db.selectFrom('robots').select('cached_folder_id').where('id', '=', row.robot_id).executeTakeFirst()
          if (connection === null || robot?.cached_folder_id == null) continue
          const job = await getJob(deps.orchestrator.clientFor(connection), robot.cached_folder_id, row.job_id as number)
          if (TERMINAL_JOB_STATES.has(job.State) && await recordJobOutcome(deps, row.id, job)) finished++
        } catch (error) {
          deps.logger.warn({ err: error, launchId: row.id }, 'could not read the job state; will look again')
        }
      }
      return finished
    }
  }
}
