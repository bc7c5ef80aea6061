import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database, LaunchState } from '../db/schema.js'
import type { Metrics } from '../metrics.js'
import { insertLaunchEvent } from '../alerts/team-events.js'
import { queueLaunchReply, type ReplyLimits } from '../notify/launch-replies.js'
import { loadConnection } from '../orchestrator/connection.js'
import { getJob, getJobs, TERMINAL_JOB_STATES, type Job } from '../orchestrator/jobs.js'
import { takeListRead } from '../orchestrator/list-budget.js'
import type { OrchestratorClient } from '../orchestrator/client.js'
import type { OrchestratorRegistry } from '../orchestrator/registry.js'

// A launched job is followed to its end: by the Orchestrator webhook when the tenant registered
// one, else (and as a safety net, since UiPath does not retry webhooks) by polling. A young job —
// launched less than one interval ago — is looked at 1, 2, 4, 8 … seconds after its launch, each
// read by its id (reads by id are not rate-limited), so a robot that runs for seconds is reported
// seconds after it ends, webhook or not. Older jobs are looked at once per interval, asked of
// Orchestrator once per folder for all of a tenant's due jobs there: one by id, several in
// collection reads, which Orchestrator limits per tenant and minute; mailrun spends at most
// MAILRUN_ORCHESTRATOR_LIST_READS_PER_MINUTE of them (list-budget.ts).

const FINAL: Record<string, LaunchState> = { Successful: 'completed', Faulted: 'faulted', Stopped: 'stopped' }

export interface JobTrackerDeps {
  db: Kysely<Database>
  secrets: SecretBox
  orchestrator: OrchestratorRegistry
  logger: Logger
  pollIntervalMs: number
  /** Collection reads (GET /odata/Jobs with a filter) per tenant and minute, across instances. */
  listReadsPerMinute: number
  metrics?: Metrics
  replies: ReplyLimits
  onReplyQueued?: () => void
  /** Told when the outcome queued an alert for the team. */
  onAlertQueued?: () => void
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
export interface OutcomeDeps { db: Kysely<Database>, replies: ReplyLimits, metrics?: Metrics, onReplyQueued?: () => void, onAlertQueued?: () => void }

/** How a run ended, whatever ran it. `detail` is the history line. */
export interface RunOutcome {
  state: 'completed' | 'faulted' | 'stopped'
  info: string | null
  outputs: Record<string, unknown> | null
  endedAt: Date | null
  detail: string
}

/** Records a finished job on its launch, once, with the "finished" reply: answers whether this call finished it. */
export async function recordJobOutcome (deps: OutcomeDeps, launchId: string, job: Pick<Job, 'State' | 'Info' | 'OutputArguments' | 'EndTime'>): Promise<boolean> {
  const state = FINAL[job.State]
  if (state === undefined) return false
  return await recordRunOutcome(deps, launchId, {
    state: state as RunOutcome['state'],
    info: job.Info ?? null,
    outputs: outputOf(job),
    endedAt: job.EndTime !== null && job.EndTime !== undefined ? new Date(job.EndTime) : null,
    detail: `job ${job.State}${job.Info !== null && job.Info !== undefined ? `: ${job.Info}` : ''}`
  })
}

/** Records a finished run on its launch, once, with the team's alert and the "finished" reply: answers whether this call finished it. */
export async function recordRunOutcome (deps: OutcomeDeps, launchId: string, outcome: RunOutcome): Promise<boolean> {
  const { state } = outcome
  let queuedAlert = false
  const finished = await deps.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('launches').set({
      state,
      job_info: outcome.info,
      output_arguments: JSON.stringify(outcome.outputs),
      finished_at: outcome.endedAt ?? new Date(),
      next_attempt_at: null,
      updated_at: new Date()
    }).where('id', '=', launchId).where('state', '=', 'launched').executeTakeFirst()
    if (updated.numUpdatedRows === 0n) return false
    await trx.insertInto('launch_events').values({ launch_id: launchId, state, detail: outcome.detail }).execute()
    const alerted = await insertLaunchEvent(trx, launchId, { state, info: outcome.info }).returning('id').execute()
    queuedAlert = alerted.length > 0
    await queueLaunchReply(trx, launchId, deps.replies, (l) => ({
      kind: 'finished',
      robot: l.robot,
      state,
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
  if (queuedAlert) deps.onAlertQueued?.()
  return true
}

/**
 * When a running job or run is looked at next: while young, at the next power of two seconds since
 * its launch (1, 2, 4, 8 …); then the interval, doubled after 10 minutes of running, four times
 * after an hour — whichever comes first.
 */
export function nextLookAt (pollIntervalMs: number) {
  const age = sql`greatest(extract(epoch from now() - coalesce(launches.launched_at, now()))::float8, 0.5)`
  return sql<Date>`least(
    coalesce(launches.launched_at, now()) + power(2, floor(log(2, ${age}::numeric)) + 1)::float8 * interval '1 second',
    now() + (case when now() - launches.launched_at < interval '10 minutes' then 1 when now() - launches.launched_at < interval '1 hour' then 2 else 4 end) * ${`${pollIntervalMs} milliseconds`}::interval)`
}

/** When a launch just made is first looked at: a second later, the first step of the young schedule. */
export const FIRST_LOOK_MS = 1_000

/** Young jobs claimed (and read one by one) in a pass: a pass's work stays bounded whatever the backlog; the others are the next pass's. */
export const YOUNG_READS_PER_PASS = 50
/** Reads by id in flight at once. */
const READS_AT_ONCE = 8

/** Jobs asked about in one collection read: the filter stays a short URL. */
export const JOBS_PER_READ = 50

export interface JobTracker {
  /**
   * Reads the due jobs and records those that ended; answers how many. `older: false` reads only
   * young jobs (the background loop looks at older ones every few passes, as before young jobs
   * were read on their own).
   */
  pollDue: (options?: { older?: boolean, limit?: number }) => Promise<number>
}

export function createJobTracker (deps: JobTrackerDeps): JobTracker {
  const { db } = deps
  /** Launched less than one interval ago: a young job, on the 1, 2, 4, 8 … s schedule. */
  const youngSince = sql<Date>`now() - ${`${deps.pollIntervalMs} milliseconds`}::interval`

  /** Due young jobs, claimed in one statement by moving their next look ahead (the interval, doubled after 10 minutes of running, four times after an hour), so replicas do not poll the same job at once. */
  async function claimYoung (limit: number) {
    return await db
      .with('due', (qb) => qb.selectFrom('launches').select('id')
        .where('state', '=', 'launched').where('job_id', 'is not', null)
        .where('launched_at', '>', youngSince)
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', sql<Date>`now()`)]))
        .orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked())
      .with('claimed', (qb) => qb.updateTable('launches')
        .from('due')
        .set({ next_attempt_at: nextLookAt(deps.pollIntervalMs) })
        .whereRef('launches.id', '=', 'due.id')
        .returning(['launches.id', 'launches.tenant_id', 'launches.robot_id', 'launches.job_id']))
      .selectFrom('claimed').leftJoin('robots', 'robots.id', 'claimed.robot_id')
      .select(['claimed.id', 'claimed.tenant_id', 'claimed.job_id', 'robots.cached_folder_id', sql<boolean>`true`.as('young')])
      .execute()
  }

  /**
   * Older due jobs, each tenant's share taken from its own part of an index: no more than the
   * tenant's collection reads left this minute can read (JOBS_PER_READ each; one at least, read by
   * id, which is not limited). The others stay due for the next pass instead of being pushed a
   * whole interval back unread; one tenant's backlog never holds another's jobs back, and the
   * statement's work is bounded whatever the backlog. `limit` bounds the pass across tenants, taking
   * each tenant's first due job before any tenant's second.
   * Without row locks: the update re-checks that a row is still due, so two replicas never claim
   * one job.
   */
  async function claimOlder (limit: number) {
    const claimed = await sql<{ id: string, tenant_id: string, job_id: number | null, cached_folder_id: number | null }>`
      with allowed as (
        select due.id from tenants
        left join orchestrator_list_budget as budget on budget.tenant_id = tenants.id
        cross join lateral (
          select launches.id, row_number() over (order by launches.next_attempt_at) as n from launches
          where launches.tenant_id = tenants.id and launches.state = 'launched' and launches.job_id is not null
            and launches.launched_at <= ${youngSince}
            and (launches.next_attempt_at is null or launches.next_attempt_at <= now())
          order by launches.next_attempt_at
          limit greatest(1, ${deps.listReadsPerMinute} - (case when budget.window_start = date_trunc('minute', now()) then budget.used else 0 end)) * ${JOBS_PER_READ}
        ) as due
        order by due.n
        limit ${limit}
      ), claimed as (
        update launches set next_attempt_at = ${nextLookAt(deps.pollIntervalMs)}
        from allowed
        where launches.id = allowed.id and launches.state = 'launched'
          and (launches.next_attempt_at is null or launches.next_attempt_at <= now())
        returning launches.id, launches.tenant_id, launches.robot_id, launches.job_id
      )
      select claimed.id, claimed.tenant_id, claimed.job_id, robots.cached_folder_id
      from claimed left join robots on robots.id = claimed.robot_id`.execute(db)
    return claimed.rows.map((row) => ({ ...row, job_id: row.job_id === null ? null : Number(row.job_id), young: false }))
  }

  /** Jobs read one by one (not limited), a few at a time. */
  async function readEach (client: OrchestratorClient, folderId: number, jobIds: number[]): Promise<Job[]> {
    const jobs: Job[] = []
    for (let at = 0; at < jobIds.length; at += READS_AT_ONCE) {
      jobs.push(...await Promise.all(jobIds.slice(at, at + READS_AT_ONCE).map(async (id) => await getJob(client, folderId, id))))
    }
    return jobs
  }

  /** The jobs of one folder: young ones and a lone one read by id (not limited), the others in collection reads of up to JOBS_PER_READ within the tenant's budget. */
  async function readFolder (tenantId: string, client: OrchestratorClient, folderId: number, young: number[], older: number[]): Promise<Job[]> {
    const jobs: Job[] = young.length > 0 ? await readEach(client, folderId, young) : []
    if (older.length === 0) return jobs
    if (older.length === 1) return [...jobs, await getJob(client, folderId, older[0] as number)]
    for (let at = 0; at < older.length; at += JOBS_PER_READ) {
      // Spent: these jobs wait for their next look, when the budget has refilled.
      if (!await takeListRead(db, tenantId, deps.listReadsPerMinute)) {
        deps.logger.debug({ tenantId, waiting: older.length - at }, 'Orchestrator list budget spent for this minute; the other jobs are looked at later')
        break
      }
      jobs.push(...await getJobs(client, folderId, older.slice(at, at + JOBS_PER_READ)))
    }
    return jobs
  }

  return {
    async pollDue ({ older = true, limit = 500 } = {}) {
      const due = [...await claimYoung(YOUNG_READS_PER_PASS), ...older ? await claimOlder(limit) : []]
      const byTenant = new Map<string, typeof due>()
      for (const row of due) {
        const rows = byTenant.get(row.tenant_id) ?? []
        rows.push(row)
        byTenant.set(row.tenant_id, rows)
      }
      let finished = 0
      for (const [tenantId, rows] of byTenant) {
        try {
          const connection = await loadConnection(db, deps.secrets, tenantId)
          if (connection === null) continue
          const client = deps.orchestrator.clientFor(connection)
          const byFolder = new Map<number, { launches: Map<number, string>, young: number[], older: number[] }>()
          for (const row of rows) {
            if (row.cached_folder_id === null || row.job_id === null) continue
            const folder = byFolder.get(row.cached_folder_id) ?? { launches: new Map<number, string>(), young: [], older: [] }
            folder.launches.set(row.job_id, row.id)
            folder[row.young ? 'young' : 'older'].push(row.job_id)
            byFolder.set(row.cached_folder_id, folder)
          }
          for (const [folderId, { launches, young, older }] of byFolder) {
            try {
              for (const job of await readFolder(tenantId, client, folderId, young, older)) {
                const launchId = launches.get(job.Id)
                if (launchId !== undefined && TERMINAL_JOB_STATES.has(job.State) && await recordJobOutcome(deps, launchId, job)) finished++
              }
            } catch (error) {
              deps.logger.warn({ err: error, tenantId, folderId, jobs: launches.size }, 'could not read the job states; will look again')
            }
          }
        } catch (error) {
          deps.logger.warn({ err: error, tenantId }, 'could not read the job states; will look again')
        }
      }
      return finished
    }
  }
}
