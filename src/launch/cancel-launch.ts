import { sql, type Kysely } from 'kysely'
import type { SecretBox } from '../crypto/secret-box.js'
import type { AttachmentPolicy, Database } from '../db/schema.js'
import { loadConnection } from '../orchestrator/connection.js'
import { OrchestratorError } from '../orchestrator/errors.js'
import { discardFiles, releaseRaw } from './launch-files.js'
import { deleteQueueItems, queueItemsByPrefix, stopJob } from '../orchestrator/jobs.js'
import type { OrchestratorRegistry } from '../orchestrator/registry.js'
import { openTarget, type TargetConnection } from '../targets/open-target.js'
import type { Platform } from '../targets/platforms.js'
import { TargetError } from '../targets/target-error.js'
import { findVisibleLaunch, type LaunchRef } from '../commands/status-report.js'

// CANCEL by email: a launch that has not started is cancelled before StartJobs; a running job is
// stopped through Orchestrator (SoftStop, or Kill when asked); the queue items a launch added are
// deleted while no robot has taken them (DeleteBulk refuses the others); one that ended stays. A
// run at an HTTP target is cancelled before it starts, not after (its contract has no stop).
// Safe to run twice (a message decided again after a crash): the pending → stopped change is
// conditional, and stopping a job that is already stopping changes nothing.

export type CancelOutcome =
  | { outcome: 'cancelled', robot: string }
  | { outcome: 'stop_requested', robot: string, jobId: number, kill: boolean }
  | { outcome: 'starting', robot: string }
  | { outcome: 'ended', robot: string, state: string }
  | { outcome: 'queue_item', robot: string }
  | { outcome: 'queue_deleted', robot: string, deleted: number, kept: number }
  | { outcome: 'stop_failed', robot: string, jobId: number, reason: string }
  | { outcome: 'not_stoppable', robot: string }
  | { outcome: 'run_stop_requested', robot: string }
  | { outcome: 'run_stop_failed', robot: string, reason: string }
  | { outcome: 'not_found', ref: string }

export interface CancelRequest { tenantId: string, senderId: string, who: string, ref: LaunchRef, kill: boolean }

export interface CancelDeps { db: Kysely<Database>, secrets: SecretBox, orchestrator: OrchestratorRegistry, platforms: Record<TargetConnection['kind'], Platform> }

/** CANCEL by email: the sender's own launch (or one they operate), found by its id or job number. */
export async function cancelLaunch (deps: CancelDeps, request: CancelRequest): Promise<CancelOutcome> {
  const launch = await findVisibleLaunch(deps.db, request.tenantId, request.senderId, request.ref)
  if (launch === null) return { outcome: 'not_found', ref: 'launchId' in request.ref ? request.ref.launchId : request.ref.text }
  return await cancelLaunchById(deps, { tenantId: request.tenantId, launchId: launch, who: request.who, kill: request.kill })
}

/** The same cancel for a launch already found in the tenant (the admin API and the console). */
export async function cancelLaunchById (deps: CancelDeps, request: { tenantId: string, launchId: string, who: string, kill: boolean }): Promise<CancelOutcome> {
  const { db } = deps
  const launch = request.launchId
  const row = await db.selectFrom('launches').leftJoin('robots', 'robots.id', 'launches.robot_id')
    .select(['launches.id', 'launches.message_id', 'launches.state', 'launches.job_id', 'launches.job_key', 'launches.unsure_since', 'launches.connection_id', 'robots.name', 'robots.cached_folder_id', 'robots.attachments', 'robots.folder'])
    .where('launches.id', '=', launch).executeTakeFirstOrThrow()
  const robot = row.name ?? '?'
  if (row.state === 'pending' && row.unsure_since === null) {
    // Not claimed by a launcher (or its claim lapsed), and no earlier attempt may have started a job.
    const stopped = await db.updateTable('launches').set({ state: 'stopped', finished_at: new Date(), next_attempt_at: null, locked_until: null, updated_at: new Date() })
      .where('id', '=', row.id).where('state', '=', 'pending').where('unsure_since', 'is', null)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)]))
      .executeTakeFirst()
    if (stopped.numUpdatedRows > 0n) {
      await db.insertInto('launch_events').values({ launch_id: row.id, state: 'stopped', detail: `cancelled by ${request.who} before it started` }).execute()
      await letGoOfFiles(deps, request.tenantId, row)
      return { outcome: 'cancelled', robot }
    }
    return { outcome: 'starting', robot }
  }
  if (row.state === 'pending' || row.state === 'launching') return { outcome: 'starting', robot }
  if (row.state !== 'launched') return { outcome: 'ended', robot, state: row.state }
  if (row.connection_id !== null) return await stopRun(deps, { id: row.id, connectionId: row.connection_id, runId: row.job_key, robot, who: request.who })
  const connection = await loadConnection(db, deps.secrets, request.tenantId)
  if (row.job_id === null) {
    if (connection === null || row.cached_folder_id === null) return { outcome: 'queue_item', robot }
    return await deleteItems(deps, connection, { id: row.id, folderId: row.cached_folder_id, robot, who: request.who })
  }
  if (connection === null || row.cached_folder_id === null) return { outcome: 'stop_failed', robot, jobId: row.job_id, reason: 'the Orchestrator connection or the robot\'s folder is no longer known' }
  try {
    await stopJob(deps.orchestrator.clientFor(connection), row.cached_folder_id, row.job_id, request.kill ? 'Kill' : 'SoftStop')
  } catch (error) {
    return { outcome: 'stop_failed', robot, jobId: row.job_id, reason: error instanceof OrchestratorError ? error.message : String(error) }
  }
  // The job is looked at by the next poll rather than an interval later: the sender waits for the "stopped" reply.
  await db.with('due', (qb) => qb.updateTable('launches').set({ next_attempt_at: new Date() }).where('id', '=', row.id).where('state', '=', 'launched').returning('id'))
    .insertInto('launch_events').values({ launch_id: row.id, state: 'launched', detail: `${request.kill ? 'kill' : 'stop'} requested by ${request.who}` }).execute()
  return { outcome: 'stop_requested', robot, jobId: row.job_id, kill: request.kill }
}

/**
 * A run on another platform: stopped where the platform can (a desktop flow run is cancelled) and
 * looked at by the next poll; an HTTP target's contract has no stop, so its run goes on where it runs.
 */
async function stopRun (deps: CancelDeps, launch: { id: string, connectionId: string, runId: string | null, robot: string, who: string }): Promise<CancelOutcome> {
  const stored = await deps.db.selectFrom('connections').select(['id', 'kind', 'url_enc', 'secret_enc', 'settings']).where('id', '=', launch.connectionId).executeTakeFirst()
  const target = stored === undefined ? null : openTarget(stored, deps.secrets)
  if (target === null || launch.runId === null) return { outcome: 'not_stoppable', robot: launch.robot }
  try {
    if (!await deps.platforms[target.kind].stop(target, launch.runId)) return { outcome: 'not_stoppable', robot: launch.robot }
  } catch (error) {
    return { outcome: 'run_stop_failed', robot: launch.robot, reason: error instanceof TargetError ? error.message : String(error) }
  }
  await deps.db.with('due', (qb) => qb.updateTable('launches').set({ next_attempt_at: new Date() }).where('id', '=', launch.id).where('state', '=', 'launched').returning('id'))
    .insertInto('launch_events').values({ launch_id: launch.id, state: 'launched', detail: `stop requested by ${launch.who}` }).execute()
  return { outcome: 'run_stop_requested', robot: launch.robot }
}

/**
 * A queue launch's items: the one it added (Reference = the launch id) or a spreadsheet's rows
 * (`<launch id>#<row>`), both found by that prefix. Items a robot has taken stay; when none is
 * left the launch ends stopped.
 */
async function deleteItems (deps: CancelDeps, connection: NonNullable<Awaited<ReturnType<typeof loadConnection>>>, launch: { id: string, folderId: number, robot: string, who: string }): Promise<CancelOutcome> {
  const client = deps.orchestrator.clientFor(connection)
  let deleted = 0
  let kept = 0
  try {
    const items = (await queueItemsByPrefix(client, launch.folderId, launch.id)).filter((i) => i.Status !== 'Deleted')
    const waiting = items.filter((i) => i.Status === undefined || i.Status === 'New')
    const refused = waiting.length === 0 ? [] : await deleteQueueItems(client, launch.folderId, waiting)
    deleted = waiting.length - refused.length
    kept = items.length - deleted
  } catch {
    return { outcome: 'queue_item', robot: launch.robot }
  }
  const detail = `${deleted} queue item${deleted === 1 ? '' : 's'} deleted by ${launch.who}${kept > 0 ? `; ${kept} already taken by a robot` : ''}`
  if (kept === 0 && deleted > 0) {
    await deps.db.updateTable('launches').set({ state: 'stopped', finished_at: new Date(), updated_at: new Date() }).where('id', '=', launch.id).where('state', '=', 'launched').execute()
    await deps.db.insertInto('launch_events').values({ launch_id: launch.id, state: 'stopped', detail }).execute()
  } else {
    await deps.db.insertInto('launch_events').values({ launch_id: launch.id, state: 'launched', detail }).execute()
  }
  return { outcome: 'queue_deleted', robot: launch.robot, deleted, kept }
}

/**
 * A launch cancelled before its job started: files an earlier attempt uploaded are deleted from
 * the bucket (best effort), and the raw copy kept for them goes.
 */
async function letGoOfFiles (deps: CancelDeps, tenantId: string, row: { id: string, message_id: string, cached_folder_id: number | null, attachments: AttachmentPolicy | null, folder: string | null }): Promise<void> {
  if (await deps.db.selectFrom('launch_files').select('ordinal').where('launch_id', '=', row.id).executeTakeFirst() === undefined) return
  const connection = row.attachments !== null && row.cached_folder_id !== null ? await loadConnection(deps.db, deps.secrets, tenantId) : null
  if (connection !== null && row.attachments !== null && row.cached_folder_id !== null) {
    await discardFiles({ db: deps.db }, deps.orchestrator.clientFor(connection), row.id, { folderId: row.cached_folder_id, folderName: row.folder ?? connection.defaultFolder ?? '', policy: row.attachments })
  }
  await releaseRaw({ db: deps.db }, row.message_id)
}
