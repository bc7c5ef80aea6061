import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { SecretBox } from '../crypto/secret-box.js'
import { verifyWebhook } from '../crypto/standard-webhooks.js'
import type { Database } from '../db/schema.js'
import type { RunReport } from '../targets/http/http-target.js'
import { openTarget, type TargetConnection } from '../targets/open-target.js'
import type { Platform } from '../targets/platforms.js'
import { nextLookAt, recordRunOutcome, type OutcomeDeps } from './job-tracker.js'

// The end of a run on another platform than UiPath. An HTTP target tells it by its signed callback
// (POST /webhooks/http/{connectionId}), or, when it gave a statusUrl, mailrun polls that; a Power
// Automate desktop flow run (its flowsession) and an Automation Anywhere bot (its deployment's
// activity) are polled. All record it through the same
// conditional change, so a callback retried, or one that crosses a poll, finishes the launch once.

const ENDS = new Set(['completed', 'faulted', 'stopped'])

/** Platforms whose runs are read by their id (a flowsession, a deployment's activity); an HTTP target's only through the statusUrl it gave. */
const POLLED_BY_RUN_ID = ['power_automate', 'automation_anywhere'] as const

export type CallbackAnswer =
  | { status: 200, body: { handled: boolean, launch?: string } }
  | { status: 400 | 401 | 404, message: string }

/** A callback as the route hands it over: the connection in its path, the headers, the bytes as sent. */
export async function takeHttpCallback (deps: OutcomeDeps & { secrets: SecretBox }, connectionId: string, headers: Record<string, string | string[] | undefined>, raw: Buffer): Promise<CallbackAnswer> {
  const connection = await deps.db.selectFrom('connections').select(['tenant_id', 'secret_enc']).where('id', '=', connectionId).executeTakeFirst()
  if (connection === undefined) return { status: 404, message: 'unknown connection: use the callbackUrl GET /api/v1/connections/{id} shows' }
  const verdict = verifyWebhook(deps.secrets.open(connection.secret_enc), headers, raw)
  if (!verdict.ok) return { status: 401, message: verdict.reason }
  let body: { launchId?: unknown, status?: unknown, outputs?: unknown, info?: unknown }
  try {
    body = JSON.parse(raw.toString('utf8')) as typeof body
  } catch {
    return { status: 400, message: 'the body is not JSON: send {"launchId", "status", "outputs"}' }
  }
  if (typeof body !== 'object' || body === null || typeof body.launchId !== 'string' || !/^[0-9a-f-]{36}$/i.test(body.launchId)) return { status: 400, message: 'launchId is required: the launchId mailrun sent with the launch' }
  if (body.status === 'running') return { status: 200, body: { handled: false, launch: body.launchId } }
  if (typeof body.status !== 'string' || !ENDS.has(body.status)) return { status: 400, message: 'status must be completed, faulted or stopped (running is acknowledged and changes nothing)' }
  if (body.outputs !== undefined && body.outputs !== null && (typeof body.outputs !== 'object' || Array.isArray(body.outputs))) return { status: 400, message: 'outputs must be a JSON object of named values' }
  if (body.info !== undefined && body.info !== null && typeof body.info !== 'string') return { status: 400, message: 'info must be a string' }
  const launch = await deps.db.selectFrom('launches').select('id').where('id', '=', body.launchId).where('tenant_id', '=', connection.tenant_id).where('connection_id', '=', connectionId).executeTakeFirst()
  if (launch === undefined) return { status: 404, message: `no launch ${body.launchId} went through this connection` }
  const finished = await record(deps, launch.id, { status: body.status as RunReport['status'], outputs: (body.outputs ?? null) as RunReport['outputs'], info: typeof body.info === 'string' ? body.info.slice(0, 2000) : null })
  return { status: 200, body: { handled: finished, launch: launch.id } }
}

async function record (deps: OutcomeDeps, launchId: string, report: RunReport): Promise<boolean> {
  if (report.status === 'running') return false
  return await recordRunOutcome(deps, launchId, {
    state: report.status,
    info: report.info,
    outputs: report.outputs,
    endedAt: null,
    detail: `run ${report.status}${report.info !== null ? `: ${report.info}` : ''}`
  })
}

export interface TargetRunPollerDeps extends OutcomeDeps {
  secrets: SecretBox
  platforms: Record<TargetConnection['kind'], Platform>
  logger: Logger
  pollIntervalMs: number
}

/**
 * Due runs on other platforms, claimed by moving their next look ahead (longer for runs that have
 * gone on a while), so replicas do not poll the same run. Read from an index of their own
 * (`launches_platform_runs_idx`): the pass runs every quarter second while a launch is young, and
 * without it read every running UiPath job as well, to find none of them due here.
 */
export function claimDueRuns (db: Kysely<Database>, pollIntervalMs: number, limit: number) {
  return db.with('due', (qb) => qb.selectFrom('launches').select('id')
    .where('state', '=', 'launched').where('connection_id', 'is not', null)
    .where((eb) => eb.or([eb('status_url_enc', 'is not', null), eb.and([eb('job_key', 'is not', null), eb.exists(eb.selectFrom('connections').select('connections.id').whereRef('connections.id', '=', 'launches.connection_id').where('connections.kind', 'in', POLLED_BY_RUN_ID))])]))
    .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', sql<Date>`now()`)]))
    .orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked())
    .updateTable('launches').from('due')
    .set({ next_attempt_at: nextLookAt(pollIntervalMs) })
    .whereRef('launches.id', '=', 'due.id')
    .returning(['launches.id', 'launches.status_url_enc', 'launches.connection_id', 'launches.job_key'])
}

/** Polls launched runs that are due (an HTTP target's statusUrl, a desktop flow's session, a bot's activity), as the job tracker polls Orchestrator: answers how many ended. */
export function createTargetRunPoller (deps: TargetRunPollerDeps): { pollDue: (limit?: number) => Promise<number> } {
  const db: Kysely<Database> = deps.db
  return {
    async pollDue (limit = 100) {
      const due = await claimDueRuns(db, deps.pollIntervalMs, limit).execute()
      let ended = 0
      for (const run of due) {
        if (run.connection_id === null) continue
        try {
          const stored = await db.selectFrom('connections').select(['id', 'kind', 'url_enc', 'secret_enc', 'settings']).where('id', '=', run.connection_id).executeTakeFirst()
          if (stored === undefined) continue
          const target = openTarget(stored, deps.secrets)
          const report = await deps.platforms[target.kind].status(target, { launchId: run.id, runId: run.job_key, statusUrl: run.status_url_enc !== null ? deps.secrets.open(run.status_url_enc) : null })
          if (report !== null && await record(deps, run.id, report)) ended++
        } catch (error) {
          deps.logger.warn({ err: error, launchId: run.id }, 'could not read how the run stands; will look again')
        }
      }
      return ended
    }
  }
}
