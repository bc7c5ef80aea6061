import { insertLaunchEvent, type LaunchEventDetail } from '../alerts/team-events.js'
import { problem } from '../commands/problem-text.js'
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type QueryCreator, type RawBuilder, type Selectable, type Updateable } from 'kysely'
import type { Logger } from 'pino'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database, LaunchesTable, LaunchState, OrchestratorConnectionsTable, RobotsTable } from '../db/schema.js'
import { PREPARED } from '../db/prepared-statements.js'
import type { Metrics } from '../metrics.js'
import type { ReplyContent, RowsOutcome } from '../notify/compose-reply.js'
import type { Problem } from '../db/schema.js'
import { createBatcher } from '../async/batcher.js'
import { cancelLaunch } from './cancel-launch.js'
import { launchReplyRow, replyContextColumns, replyRowFrom, type LaunchContext, type ReplyContextRow, type ReplyLimits } from '../notify/launch-replies.js'
import type { OrchestratorClient } from '../orchestrator/client.js'
import { openConnection, type OrchestratorConnection } from '../orchestrator/connection.js'
import { mayHaveTakenEffect, OrchestratorError } from '../orchestrator/errors.js'
import { addQueueItem, bulkAddQueueItems, queueItemReferences, findJobByLaunchArgument, findJobByReference, findQueueItemByReference, findRelease, startJob, type Job } from '../orchestrator/jobs.js'
import type { OrchestratorRegistry } from '../orchestrator/registry.js'
import { writeDecidedLaunch } from '../pipeline/decided-launch.js'
import type { LaunchOutcome, Launcher, NewLaunch } from '../pipeline/launcher.js'
import type { LaunchPlan } from '../commands/validate-plan.js'
import { boundProblems } from '../commands/problems.js'
import type { RawSpool } from '../pipeline/raw-spool.js'
import { attachmentsArgument, discardFiles, FilesRefused, readFiles, releaseRaw, uploadFiles, type FileDeps } from './launch-files.js'
import { openTarget, type StoredTarget, type TargetConnection } from '../targets/open-target.js'
import type { Platform, Run, RunRequest } from '../targets/platforms.js'
import { TargetError } from '../targets/target-error.js'
import { inputArguments, LAUNCH_ID_ARGUMENT, PlanTooLarge, serializeInputArguments } from './input-arguments.js'

/** How a platform is named where a sentence is about it ("… has not answered yet"). */
const PLATFORM_NAMES: Record<TargetConnection['kind'], string> = { http: 'the HTTP target', power_automate: 'Power Automate', automation_anywhere: 'the Control Room' }

// A launch moves pending → launching → launched | failed, in the database, so that a restart, a
// second replica or a retry always knows where it stands. StartJobs is not idempotent: before any
// repeated attempt the job is looked up by its Reference (the launch id).
//
// A lookup that finds nothing does not prove there is no job: a StartJobs whose answer never came
// (timeout, reset, 5xx, a process killed while it waited) can still land on the server later. Such
// a launch is "unsure" from then on: it is only looked up, never started again, until a quiet
// period (MAILRUN_LAUNCH_QUIET_MS) longer than any request can take has passed. And mailrun
// never gives up on a StartJobs it sent sooner than it must: it waits up to MAILRUN_START_TIMEOUT_MS
// for the answer (the door answers "retrying" at its deadline meanwhile), renewing its claim so no
// other worker takes the launch.

export interface LaunchServiceDeps {
  db: Kysely<Database>
  secrets: SecretBox
  orchestrator: OrchestratorRegistry
  /** Platforms other than UiPath, by connection kind. */
  platforms: Record<TargetConnection['kind'], Platform>
  logger: Logger
  deadlineMs: number
  maxAttempts: number
  /** How long a StartJobs or AddQueueItem is awaited before it is treated as unanswered. */
  startTimeoutMs: number
  /** After an unanswered start: how long only look-ups happen before starting again. */
  quietMs: number
  /** How long a claim holds; renewed at a third of it while an attempt runs. */
  claimMs: number
  /** When a launched job or run is first looked at by polling (a second: the young schedule's first step). */
  firstPollMs: number
  metrics?: Metrics
  replies: ReplyLimits
  onReplyQueued?: () => void
  /** Told after a launch gave up: the team's alert (if a channel wants it) goes at once. */
  onAlertQueued?: () => void
  /** Told after a launch started: its job or run is young, and polling looks at it soon. */
  onLaunched?: () => void
  random?: () => number
  /** Embedded database with a data directory: where a large message's raw copy waits (its attachments). */
  spool?: RawSpool
}

export interface LaunchService extends Launcher {
  /** Attempts every launch that is due (new, retrying, or abandoned mid-attempt); answers how many. */
  runDue: (limit?: number) => Promise<number>
}

/** A claimed launch, with what its replies are made of (read with the claim). */
type LaunchRow = Selectable<LaunchesTable> & { reply?: ReplyContextRow }

/** The robot as the claim reads it (a JSON row: its times would be strings, and are not used). */
type LaunchRobot = Omit<Selectable<RobotsTable>, 'created_at' | 'updated_at'>
type ConnectionRow = Omit<Selectable<OrchestratorConnectionsTable>, 'created_at' | 'updated_at'>
/** What a claim reads besides the launch and its reply's context: the robot, the tenant's Orchestrator connection, the robot's other platform, the sender. */
const claimedColumns = [
  sql<LaunchRobot | null>`to_jsonb(robots)`.as('robot_row'),
  sql<ConnectionRow | null>`(select to_jsonb(c) from orchestrator_connections c where c.tenant_id = launches.tenant_id)`.as('connection_row'),
  sql<StoredTarget | null>`(select jsonb_build_object('id', t.id, 'kind', t.kind, 'url_enc', t.url_enc, 'secret_enc', t.secret_enc, 'settings', t.settings) from connections t where t.id = robots.connection_id)`.as('target_row'),
  sql<string | null>`messages.from_address`.as('sender_address')
]
interface ClaimedColumns { robot_row: LaunchRobot | null, connection_row: ConnectionRow | null, target_row: StoredTarget | null, sender_address: string | null }
type ReplyColumns = Omit<ReplyContextRow, 'tenant_id' | 'plan' | 'job_id' | 'launched_at' | 'finished_at' | 'job_info' | 'output_arguments'>
/** What an attempt needs: the robot, and the connection it launches through (UiPath's, or another platform's). */
interface Claimed { row: LaunchRow, resumed: boolean, robot: LaunchRobot | null, connection: OrchestratorConnection | null, target: TargetConnection | null, sender: string | null, token: string }

/** A fault that retrying cannot fix: the launch fails at once with this reason. */
class PermanentFailure extends Error {}

/** The start may have happened; only look-ups until the quiet period has passed. */
class Unsure extends Error {
  /** Since when: null keeps what the launch already records. */
  readonly since: Date | null
  constructor (message: string, since: Date | null) {
    super(message)
    this.since = since
  }
}

/** Queue items per BulkAddQueueItems request: the contract sets no maximum; this keeps each request well under a megabyte for typical rows. */
export const BULK_CHUNK = 1_000

/** A spreadsheet row's queue item Reference: the launch and the row, so a retry finds what is already added. */
export const rowReference = (launchId: string, row: number): string => `${launchId}#${row}`

const BASE_BACKOFF_MS = 2_000
const MAX_BACKOFF_MS = 5 * 60_000

/** Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 5 min, each drawn from its upper half. */
export function backoffMs (attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

function isStaleIdError (error: unknown): boolean {
  return error instanceof OrchestratorError && ((error.status === 404 && Number(error.errorCode) === 1002) || (error.status === 400 && Number(error.errorCode) === 1100))
}

export function createLaunchService (deps: LaunchServiceDeps): LaunchService {
  const { db, logger, platforms } = deps
  const random = deps.random ?? Math.random
  const fileDeps: FileDeps = { db, logger, uploadTimeoutMs: deps.startTimeoutMs, ...(deps.spool !== undefined ? { spool: deps.spool } : {}) }
  /** What a launch with attachments needs to clean up after itself when it fails for good. */
  const cleanups = new Map<string, () => Promise<void>>()

  /**
   * The state change, its history line and the reply it calls for, in one statement (atomic on its
   * own): two round trips with the read of the reply's context, where a transaction took six. The
   * context is read before the change; the replies here use only the robot, the queue and the plan.
   */
  async function transition (launch: LaunchRow, values: Updateable<LaunchesTable>, state: string, detail: string, reply?: (launch: LaunchContext) => ReplyContent, teamEvent?: LaunchEventDetail): Promise<void> {
    const launchId = launch.id
    const notification = reply === undefined
      ? null
      : launch.reply !== undefined ? replyRowFrom(launch.reply, launchId, deps.replies, reply) : await launchReplyRow(db, launchId, deps.replies, reply)
    const updated = db.with('changed', (qb) => qb.updateTable('launches').set({ ...values, updated_at: new Date() }).where('id', '=', launchId).returning('id'))
    // The team's alert (a launch that gave up) is written by the same statement as the change.
    // (The CTE's query creator knows `changed`, which the insert does not use: same database.)
    const change = teamEvent === undefined ? updated : updated.with('alerted', (qb) => insertLaunchEvent(qb as unknown as QueryCreator<Database>, launchId, teamEvent).returning('id')) as unknown as typeof updated
    // Named (planned once per connection): one of these runs for every launch; its few shapes follow the transition's columns.
    if (notification === null) {
      await change.insertInto('launch_events').values({ launch_id: launchId, state, detail }).modifyEnd(PREPARED).execute()
      return
    }
    await change.with('event', (qb) => qb.insertInto('launch_events').values({ launch_id: launchId, state, detail }).returning('id'))
      .insertInto('notifications').values(notification).modifyEnd(PREPARED).execute()
    if (notification.state !== 'suppressed') deps.onReplyQueued?.()
  }

  /**
   * Takes launches for this process (these ids, or the one due next); a launch left "launching" by
   * a dead process is due again once its claim expires. One statement claims them and reads what
   * an attempt needs: the robot, the tenant's Orchestrator connection and what its reply is made of.
   */
  // Claims this process knows never sent a start: the claim's own answer was lost (the database went
  // away after committing it), or the attempt failed before StartJobs / AddQueueItem /
  // BulkAddQueueItems was handed to the network and could not be recorded. Their rows go back to
  // pending as soon as the database answers, to be tried at once: taken over after the claim
  // expired they would count as unsure and wait out MAILRUN_LAUNCH_QUIET_MS.
  const unsent = new Map<string, number>()
  /** Whether the attempt running in this async context handed a start request to the network. */
  const attemptProgress = new AsyncLocalStorage<{ sent: boolean }>()
  const UNSENT_KEPT_MS = 60 * 60_000

  // Launches a door asked for and could not claim (the database away): left alone they would wait
  // out the door's grace (30 s) before the queue takes them. Due at once when the database answers.
  const unclaimed = new Map<string, number>()

  async function handBackUnsent (): Promise<void> {
    if (unclaimed.size > 0) {
      const ids = [...unclaimed.keys()]
      await db.updateTable('launches').set({ next_attempt_at: new Date() }).where('id', 'in', ids).where('state', '=', 'pending').execute()
      for (const id of ids) unclaimed.delete(id)
    }
    if (unsent.size === 0) return
    for (const [token, at] of unsent) if (at < Date.now() - UNSENT_KEPT_MS) unsent.delete(token)
    const tokens = [...unsent.keys()]
    if (tokens.length === 0) return
    const rows = await db.updateTable('launches')
      .set({ state: 'pending', locked_until: null, next_attempt_at: new Date(), claim_token: null, updated_at: new Date() })
      .where('claim_token', 'in', tokens).where('state', '=', 'launching')
      .returning('id').execute()
    for (const token of tokens) unsent.delete(token)
    if (rows.length > 0) logger.info({ launches: rows.map((r) => r.id) }, 'launches whose start was never sent are tried again at once')
  }

  async function claimRows (launchIds: string[] | null): Promise<Claimed[]> {
    const token = randomUUID()
    try {
      await handBackUnsent()
      return await claimWith(launchIds, token)
    } catch (error) {
      // The claim may have committed with its answer lost: nothing was attempted under it.
      unsent.set(token, Date.now())
      for (const id of launchIds ?? []) unclaimed.set(id, Date.now())
      throw error
    }
  }

  async function claimWith (launchIds: string[] | null, token: string): Promise<Claimed[]> {
    let due = db.selectFrom('launches').select(['id', 'state as previous_state'])
      .where('state', 'in', ['pending', 'launching'])
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)]))
    due = launchIds !== null
      ? due.where('id', 'in', launchIds)
      // A launching row whose claim expired is due at once: its worker stopped (or lost the
      // database) mid-attempt, and the door's grace (next_attempt_at) is for pending rows.
      : due.where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', sql<Date>`now()`), eb('state', '=', 'launching')])).orderBy('next_attempt_at').limit(1)
    // The row is locked (skipped if another replica holds it) and claimed at once. The claimed rows
    // are named `launches` for the rest of the statement, so the reply's context columns (written
    // against launches) read them as they are after the claim.
    const claim = db
      .with('launches', (qb) => qb.updateTable('launches')
        .from(due.forUpdate().skipLocked().as('due'))
        .set((eb) => ({
          state: 'launching',
          attempts: eb('launches.attempts', '+', 1),
          locked_until: sql<Date>`now() + ${`${deps.claimMs} milliseconds`}::interval`,
          claim_token: token,
          // Taken over from a worker that stopped mid-attempt: its StartJobs may be in flight still.
          unsure_since: sql<Date | null>`case when launches.state = 'launching' then coalesce(launches.unsure_since, now()) else launches.unsure_since end`,
          updated_at: new Date()
        }))
        .whereRef('launches.id', '=', 'due.id')
        .returningAll('launches').returning('due.previous_state'))
    const rows = await selectClaimed(claim as unknown as QueryCreator<Database>, sql<LaunchState | null>`launches.previous_state`).execute()
    return rows.map((claimed) => toClaimed(claimed, token))
  }

  /**
   * What a claim answers: the claimed rows with their reply's context and what an attempt needs,
   * read from a statement whose CTE named `launches` (and, when it decides the message too, one
   * named `messages`) holds them as the statement leaves them.
   */
  function selectClaimed (claim: QueryCreator<Database>, previousState: RawBuilder<LaunchState | null>) {
    return claim.selectFrom('launches')
      .innerJoin('messages', 'messages.id', 'launches.message_id')
      .innerJoin('tenants', 'tenants.id', 'launches.tenant_id')
      .leftJoin('robots', 'robots.id', 'launches.robot_id')
      .selectAll('launches')
      .select(replyContextColumns(deps.replies))
      .select(claimedColumns)
      .select(previousState.as('previous_state'))
  }

  /** A claimed row as one statement answers it (launches, the reply's context, claimedColumns) made into what an attempt needs. */
  function toClaimed (claimed: Selectable<LaunchesTable> & ReplyColumns & ClaimedColumns & { previous_state: LaunchState | null }, token: string): Claimed {
    const { previous_state: previous, robot_row: robot, connection_row: connection, target_row: target, sender_address: sender, mailbox_id: mailboxId, message_id: messageId, reply_to: replyTo, locale, robot_name: robotName, launch_mode: launchMode, queue_name: queueName, own, recent, ...row } = claimed
    const reply: ReplyContextRow = { tenant_id: row.tenant_id, mailbox_id: mailboxId, message_id: messageId, reply_to: replyTo, locale, robot_name: robotName, launch_mode: launchMode, queue_name: queueName, plan: row.plan, job_id: row.job_id, launched_at: row.launched_at, finished_at: row.finished_at, job_info: row.job_info, output_arguments: row.output_arguments, own, recent }
    return {
      row: { ...row, message_id: messageId, reply },
      resumed: previous === 'launching',
      robot,
      connection: connection === null ? null : openConnection(connection, deps.secrets),
      target: target === null ? null : openTarget(target, deps.secrets),
      sender,
      token
    }
  }

  /**
   * A message's accepted decision, its launch (claimed by this process as it is written, so no
   * other worker takes it) and the launch's first history line, in one statement that answers what
   * the attempt needs, as a claim does: the decision and the claim were two round trips. Null when
   * the message was decided by someone else first. The CTEs are named `messages` and `launches`, so
   * the reply's context columns read the rows as this statement leaves them.
   */
  async function claimWithDecision (decision: NewLaunch, token: string): Promise<Claimed | null> {
    const written = writeDecidedLaunch(db, decision, { token, claimMs: deps.claimMs })
    // The largest statement a message makes, and one planned as long as it runs: named, each connection plans it once.
    const claimed = await selectClaimed(written as unknown as QueryCreator<Database>, sql<LaunchState | null>`null`).modifyEnd(PREPARED).executeTakeFirst()
    return claimed === undefined ? null : toClaimed(claimed, token)
  }

  /** The doors' launches claimed together: every launch a door asks for while a claim runs goes in the next one. */
  const claimById = createBatcher<string, Claimed | null>({
    maxItems: 100,
    runOne: async (id) => (await claimRows([id]))[0] ?? null,
    run: async (ids) => {
      const claimed = new Map((await claimRows(ids)).map((c) => [c.row.id, c]))
      return ids.map((id) => claimed.get(id) ?? null)
    }
  })

  async function markLaunched (row: LaunchRow, job: { Id: number | null, Key: string | null }, detail: string, rows?: RowsOutcome, target?: Pick<Updateable<LaunchesTable>, 'connection_id' | 'status_url_enc'>): Promise<LaunchOutcome> {
    await transition(row, {
      ...target,
      state: 'launched',
      job_id: job.Id,
      job_key: job.Key,
      launched_at: new Date(),
      locked_until: null,
      unsure_since: null,
      next_attempt_at: new Date(Date.now() + deps.firstPollMs),
      last_error: null,
      error_code: null,
      trace_id: null
    }, 'launched', detail, (l) => ({ kind: 'launched', robot: l.robot, jobId: job.Id, queue: l.queue, plan: l.plan, ...(rows !== undefined ? { rows } : {}) }))
    deps.onLaunched?.()
    deps.metrics?.launches.inc({ state: 'launched' })
    deps.metrics?.launchSeconds.observe((Date.now() - row.created_at.getTime()) / 1000)
    if (cleanups.delete(row.id)) await releaseRaw(fileDeps, row.message_id)
    logger.info({ launchId: row.id, jobId: job.Id }, 'launched')
    return { id: row.id, state: 'launched', jobId: job.Id, jobKey: job.Key }
  }

  const orchestratorDetails = (error: unknown): { error_code: string | null, trace_id: string | null } => {
    const o = error instanceof OrchestratorError ? error : null
    return { error_code: o?.errorCode !== undefined && o.errorCode !== null ? String(o.errorCode) : null, trace_id: o?.traceId ?? null }
  }

  async function markFailed (row: LaunchRow, reason: string, error: unknown): Promise<LaunchOutcome> {
    const cleanup = cleanups.get(row.id)
    cleanups.delete(row.id)
    if (cleanup !== undefined) await cleanup()
    // Failed before its files were looked at (robot deleted, no connection): the raw copy kept
    // for them goes; nothing was uploaded.
    else if (await db.selectFrom('launch_files').select('ordinal').where('launch_id', '=', row.id).executeTakeFirst() !== undefined) await releaseRaw(fileDeps, row.message_id)
    await transition(row, { state: 'failed', last_error: reason, ...orchestratorDetails(error), locked_until: null, next_attempt_at: null },
      'failed', reason, (l) => ({ kind: 'failed', robot: l.robot, reason, retrying: false }), { state: 'failed', info: reason })
    deps.metrics?.launches.inc({ state: 'failed' })
    deps.onAlertQueued?.()
    logger.warn({ launchId: row.id, reason }, 'launch failed')
    return { id: row.id, state: 'failed', reason }
  }

  async function scheduleRetry (row: LaunchRow, error: unknown): Promise<LaunchOutcome> {
    const reason = error instanceof Error ? error.message : String(error)
    const retryAfter = error instanceof OrchestratorError || error instanceof TargetError ? error.retryAfterMs : null
    const delay = Math.max(backoffMs(row.attempts, random), retryAfter ?? 0)
    // The sender hears once that the launch is delayed, not at every attempt.
    await transition(row, { state: 'pending', next_attempt_at: new Date(Date.now() + delay), locked_until: null, last_error: reason, ...orchestratorDetails(error) },
      'retrying', `attempt ${row.attempts} failed: ${reason}; next attempt in ${Math.round(delay / 1000)} s`,
      row.attempts === 1 ? (l) => ({ kind: 'failed', robot: l.robot, reason, retrying: true }) : undefined)
    deps.metrics?.launches.inc({ state: 'retrying' })
    logger.info({ launchId: row.id, attempt: row.attempts, delayMs: delay, reason }, 'launch will be retried')
    return { id: row.id, state: 'retrying', reason }
  }

  /** An unsure launch: look again later; this attempt does not count towards giving up. */
  async function scheduleRecheck (row: LaunchRow, error: Unsure): Promise<LaunchOutcome> {
    const since = error.since ?? row.unsure_since ?? new Date()
    const quietEnds = since.getTime() + deps.quietMs
    const delay = Math.max(1_000, Math.min(backoffMs(row.attempts, random), quietEnds - Date.now()))
    await transition(row, {
      state: 'pending', next_attempt_at: new Date(Date.now() + delay), locked_until: null, unsure_since: since, attempts: Math.max(0, row.attempts - 1), last_error: error.message
    }, 'unsure', `${error.message}; looking for the job again in ${Math.round(delay / 1000)} s, starting it again only after ${new Date(quietEnds).toISOString()}`,
    row.attempts === 1 && row.unsure_since === null ? (l) => ({ kind: 'failed', robot: l.robot, reason: error.message, retrying: true }) : undefined)
    deps.metrics?.launches.inc({ state: 'unsure' })
    logger.warn({ launchId: row.id, reason: error.message, quietEnds: new Date(quietEnds) }, 'launch start unclear; looking the job up before any new start')
    return { id: row.id, state: 'retrying', reason: error.message }
  }

  /** A start that failed after it may have reached the server (Orchestrator's, or another platform's) makes the launch unsure. */
  async function starting<T> (start: () => Promise<T>): Promise<T> {
    const progress = attemptProgress.getStore()
    if (progress !== undefined) progress.sent = true
    try {
      return await start()
    } catch (error) {
      if (progress !== undefined && (error instanceof OrchestratorError || error instanceof TargetError) && error.neverSent) progress.sent = false
      if (error instanceof TargetError ? error.mayHaveTakenEffect : mayHaveTakenEffect(error)) throw new Unsure(`no clear answer to the start (${error instanceof Error ? error.message : String(error)})`, new Date())
      throw error
    }
  }

  /** After an unclear attempt, and before any new start: the job (or queue item) if it exists; throws Unsure during the quiet period. */
  async function lookBeforeStarting<T> (row: LaunchRow, find: () => Promise<T | null>): Promise<T | null> {
    const found = await find()
    if (found !== null || row.unsure_since === null) return found
    if (Date.now() < row.unsure_since.getTime() + deps.quietMs) throw new Unsure('the job was not found yet after an unclear start', null)
    // Quiet for longer than any request can take: nothing will land any more.
    await db.updateTable('launches').set({ unsure_since: null }).where('id', '=', row.id).execute()
    return null
  }

  async function resolveFolder (client: OrchestratorClient, robot: { id: string, cached_folder_id: number | null }, folderName: string): Promise<number> {
    if (robot.cached_folder_id !== null) return robot.cached_folder_id
    const folder = await client.findFolder(folderName)
    if (folder === null) throw new PermanentFailure(`Orchestrator folder "${folderName}" was not found (or these credentials cannot see it)`)
    await db.updateTable('robots').set({ cached_folder_id: folder.Id }).where('id', '=', robot.id).execute()
    return folder.Id
  }

  async function resolveRelease (client: OrchestratorClient, robot: { id: string, cached_release_key: string | null, process_name: string }, folderId: number, folderName: string): Promise<string> {
    if (robot.cached_release_key !== null) return robot.cached_release_key
    const release = await findRelease(client, folderId, robot.process_name, folderName)
    if (release === null) throw new PermanentFailure(`process "${robot.process_name}" was not found in folder "${folderName}"`)
    await db.updateTable('robots').set({ cached_release_key: release.Key }).where('id', '=', robot.id).execute()
    return release.Key
  }

  /**
   * A spreadsheet's rows, added in chunks. Each item's Reference is the launch and its row: after an
   * unclear or failed attempt the items already in Orchestrator are listed by that prefix and only
   * the others are sent, so a retry never adds a row twice, whether or not the queue enforces
   * unique references (when it does, a repeated row is refused as DuplicateReference: already there).
   */
  async function addRows (
    client: OrchestratorClient,
    row: LaunchRow,
    resumed: boolean,
    target: { folderId: number, folderName: string, queue: string, common: Record<string, unknown> },
    rows: { items: Array<{ row: number, content: Record<string, unknown> }>, skipped: { rows: number, problems: Problem[], ignoredColumns?: string[] } }
  ): Promise<LaunchOutcome> {
    const todo = await itemsToAdd(row, resumed, rows.items.map((item) => ({ ...item, reference: rowReference(row.id, item.row) })), async () => await queueItemReferences(client, target.folderId, `${row.id}#`))
    await client.authenticate()
    const refused: Problem[] = []
    for (let at = 0; at < todo.length; at += BULK_CHUNK) {
      const chunk = todo.slice(at, at + BULK_CHUNK)
      const items = chunk.map((item) => ({ content: { ...target.common, ...item.content }, reference: item.reference }))
      const answer = await starting(async () => await bulkAddQueueItems(client, target.folderId, target.queue, items, { folder: target.folderName }, deps.startTimeoutMs))
      for (const failed of answer.FailedItems ?? []) {
        if (failed.ErrorCode === 'DuplicateReference') continue
        const item = typeof failed.Ordinal === 'number' ? chunk[failed.Ordinal] : undefined
        refused.push(problem('row_refused', { row: item?.row ?? null, code: failed.ErrorCode ?? 'refused' }))
      }
    }
    const added = rows.items.length - refused.length
    await db.updateTable('launch_rows').set({ added_count: added }).where('launch_id', '=', row.id).execute()
    if (added === 0) throw new PermanentFailure(`Orchestrator refused every row of the spreadsheet (${refused.slice(0, 3).map((p) => p.message).join('; ')})`)
    const outcome: RowsOutcome = { added, skipped: rows.skipped, refused: { rows: refused.length, problems: boundProblems(refused) } }
    return await markLaunched(row, { Id: null, Key: null }, `${added} queue item${added === 1 ? '' : 's'} added to ${target.queue}${refused.length > 0 ? `; ${refused.length} refused` : ''}`, outcome)
  }

  /**
   * Of a queue launch's items, those still to add: all on a first attempt; after an unclear or
   * failed one, those whose reference is not in the queue yet. While the launch is unsure and some
   * are missing, nothing is added until the quiet period has passed (they may still land).
   */
  async function itemsToAdd<T extends { reference: string }> (row: LaunchRow, resumed: boolean, items: T[], present: () => Promise<Set<string>>): Promise<T[]> {
    if (row.attempts <= 1 && !resumed && row.unsure_since === null) return items
    const there = await present()
    const todo = items.filter((item) => !there.has(item.reference))
    if (todo.length > 0 && row.unsure_since !== null) {
      if (Date.now() < row.unsure_since.getTime() + deps.quietMs) throw new Unsure(`${items.length - todo.length} of ${items.length} rows found in the queue after an unclear attempt`, null)
      await db.updateTable('launches').set({ unsure_since: null }).where('id', '=', row.id).execute()
    }
    return todo
  }

  /**
   * A queue robot on another platform (Automation Anywhere's work queues): the email's inputs as
   * one item (its reference: the launch id) or a spreadsheet's rows (`<launch id>#<row>`), each
   * sent once as for Orchestrator's queues.
   */
  async function addToPlatformQueue (row: LaunchRow, resumed: boolean, target: TargetConnection, request: RunRequest, queueName: string): Promise<LaunchOutcome> {
    const queue = platforms[target.kind].queue
    if (queue === undefined) throw new PermanentFailure(`robot "${request.robot}" is a queue robot, and ${PLATFORM_NAMES[target.kind]} has no queue mailrun can add to: make it a job robot`)
    const rows = await db.selectFrom('launch_rows').select(['items', 'skipped']).where('launch_id', '=', row.id).executeTakeFirst()
    const items = rows !== undefined
      ? rows.items.map((item) => ({ reference: rowReference(row.id, item.row), content: { ...request.inputs, ...item.content } }))
      : [{ reference: row.id, content: request.inputs }]
    const todo = await itemsToAdd(row, resumed, items, async () => await queue.references(target, request, row.id))
    for (let at = 0; at < todo.length; at += BULK_CHUNK) {
      const chunk = todo.slice(at, at + BULK_CHUNK)
      await starting(async () => { await queue.add(target, request, chunk) })
    }
    const through = { connection_id: target.id, status_url_enc: null }
    if (rows === undefined) return await markLaunched(row, { Id: null, Key: null }, todo.length === 0 ? `queue item was already in ${queueName}` : `queue item added to ${queueName}`, undefined, through)
    await db.updateTable('launch_rows').set({ added_count: items.length }).where('launch_id', '=', row.id).execute()
    const outcome: RowsOutcome = { added: items.length, skipped: rows.skipped, refused: { rows: 0, problems: [] } }
    return await markLaunched(row, { Id: null, Key: null }, `${items.length} queue item${items.length === 1 ? '' : 's'} added to ${queueName}`, outcome, through)
  }

  /**
   * A run on another platform. Where every attempt carries the same idempotency key (an HTTP
   * target) an attempt whose answer was lost is simply sent again. Where none exists (Power
   * Automate) the launch id travels with the run: after an unclear attempt the run is looked for
   * before anything is started, and nothing is started again until the quiet period has passed —
   * as for a UiPath job.
   */
  async function attemptRun (row: LaunchRow, resumed: boolean, robot: LaunchRobot, target: TargetConnection, sender: string | null): Promise<LaunchOutcome> {
    const platform = platforms[target.kind]
    const plan = row.plan as unknown as LaunchPlan
    // Files travel in the request (where the platform takes them), read back from the email kept for them.
    const files = robot.attachments === null ? [] : await db.selectFrom('launch_files').selectAll().where('launch_id', '=', row.id).orderBy('ordinal').execute()
    if (files.length > 0) cleanups.set(row.id, async () => { await releaseRaw(fileDeps, row.message_id) })
    const request: RunRequest = { launchId: row.id, robot: robot.name, sender, plan, inputs: inputArguments(plan, robot.functions_argument), attachments: await readFiles(fileDeps, row.message_id, files), robotTarget: robot.target, createdAt: row.created_at }
    if (robot.launch_mode === 'queue') return await addToPlatformQueue(row, resumed, target, request, robot.queue_name ?? '')
    const launched = async (run: Run, detail: string): Promise<LaunchOutcome> => await markLaunched(row, { Id: null, Key: run.runId }, detail, undefined,
      { connection_id: target.id, status_url_enc: run.statusUrl !== null ? deps.secrets.seal(run.statusUrl) : null })
    if (!platform.idempotent && (row.attempts > 1 || resumed || row.unsure_since !== null)) {
      const found = await lookBeforeStarting(row, async () => await platform.find(target, request))
      if (found !== null) return await launched({ runId: found, statusUrl: null }, platform.found(found))
    }
    const run = platform.idempotent ? await sending(async () => await platform.start(target, request)) : await starting(async () => await platform.start(target, request))
    return await launched(run, platform.started(run.runId))
  }

  /** A start sent with an idempotency key: a failure is retried like any other, and says whether it left this process. */
  async function sending<T> (start: () => Promise<T>): Promise<T> {
    const progress = attemptProgress.getStore()
    if (progress !== undefined) progress.sent = true
    try {
      return await start()
    } catch (error) {
      if (progress !== undefined && error instanceof TargetError && error.neverSent) progress.sent = false
      throw error
    }
  }

  async function attempt ({ row, resumed, robot, connection, target, sender }: Claimed): Promise<LaunchOutcome> {
    if (robot === null) throw new PermanentFailure('the robot was deleted before it could be launched')
    if (target !== null) return await attemptRun(row, resumed, robot, target, sender)
    if (connection === null) throw new PermanentFailure('no Orchestrator connection is configured for this tenant (PUT /api/v1/orchestrator)')
    const folderName = robot.folder ?? connection.defaultFolder
    if (folderName === null) throw new PermanentFailure(`robot "${robot.name}" names no folder and the Orchestrator connection has no default folder`)
    const plan = row.plan as unknown as LaunchPlan
    const client = deps.orchestrator.clientFor(connection)

    const run = async (fresh: boolean): Promise<LaunchOutcome> => {
      const current = fresh ? { ...robot, cached_folder_id: null, cached_release_key: null } : robot
      const folderId = await resolveFolder(client, current, folderName)
      if (robot.launch_mode === 'queue') {
        const rows = await db.selectFrom('launch_rows').select(['items', 'skipped']).where('launch_id', '=', row.id).executeTakeFirst()
        if (rows !== undefined) return await addRows(client, row, resumed, { folderId, folderName, queue: robot.queue_name ?? '', common: inputArguments(plan, robot.functions_argument) }, rows)
        const content = inputArguments(plan, robot.functions_argument)
        serializeInputArguments(content)
        if (row.attempts > 1 || resumed || row.unsure_since !== null) {
          const existing = await lookBeforeStarting(row, async () => await findQueueItemByReference(client, folderId, row.id))
          if (existing !== null) return await markLaunched(row, { Id: null, Key: existing.Key }, `queue item found by reference after an unclear attempt in ${robot.queue_name ?? ''}`)
        }
        try {
          await client.authenticate()
          const item = await starting(async () => await addQueueItem(client, folderId, { queueName: robot.queue_name ?? '', content, reference: row.id }, { folder: folderName }, deps.startTimeoutMs))
          return await markLaunched(row, { Id: null, Key: item.Key }, `queue item added to ${robot.queue_name ?? ''}`)
        } catch (error) {
          // The item is already in the queue from an earlier attempt whose answer was lost.
          if (error instanceof OrchestratorError && error.status === 409 && Number(error.errorCode) === 1016) return await markLaunched(row, { Id: null, Key: null }, `queue item was already in ${robot.queue_name ?? ''}`)
          throw error
        }
      }
      const legacy = supportsReference === false
      const files = robot.attachments === null ? [] : await db.selectFrom('launch_files').selectAll().where('launch_id', '=', row.id).orderBy('ordinal').execute()
      const policy = robot.attachments
      if (policy !== null && files.length > 0) {
        const target = { folderId, folderName, policy }
        cleanups.set(row.id, async () => {
          await discardFiles(fileDeps, client, row.id, target)
          await releaseRaw(fileDeps, row.message_id)
        })
      }
      const attachments = robot.attachments === null || files.length === 0 ? {} : { in_Attachments: attachmentsArgument(files, robot.attachments.bucket) }
      const args = serializeInputArguments({ ...inputArguments(plan, robot.functions_argument), ...attachments, ...(legacy ? { [LAUNCH_ID_ARGUMENT]: row.id } : {}) })
      if (row.attempts > 1 || resumed || row.unsure_since !== null) {
        const existing = await lookBeforeStarting(row, async () => legacy ? await findJobByLaunchArgument(client, folderId, row.id) : await findJobByReference(client, folderId, row.id))
        if (existing !== null) return await markLaunched(row, existing, `job ${existing.Id} found by ${legacy ? LAUNCH_ID_ARGUMENT : 'reference'} after an unclear attempt`)
      }
      const releaseKey = await resolveRelease(client, current, folderId, folderName)
      if (policy !== null && files.length > 0) {
        // Uploaded before the job starts, so the job finds every file it is told about.
        await client.authenticate()
        await uploadFiles(fileDeps, client, row, files, { folderId, folderName, policy })
      }
      try {
        await client.authenticate()
        const job: Job = await starting(async () => await startJob(client, folderId, { releaseKey, inputArguments: args, reference: legacy ? null : row.id }, { folder: folderName, process: robot.process_name }, deps.startTimeoutMs))
        if (supportsReference === null) await rememberReferenceSupport(true)
        return await markLaunched(row, job, `job ${job.Id} started`)
      } catch (error) {
        // An older server refuses the unknown Reference property: learn that once, and carry the
        // launch id in an input argument instead.
        if (legacy || !(error instanceof OrchestratorError) || error.status !== 400 || !/'?Reference'?/.test(error.serverMessage)) throw error
        await rememberReferenceSupport(false)
        return await run(fresh)
      }
    }

    let supportsReference = connection.supportsJobReference
    const rememberReferenceSupport = async (supported: boolean): Promise<void> => {
      supportsReference = supported
      await db.updateTable('orchestrator_connections').set({ supports_job_reference: supported }).where('id', '=', connection.id).execute()
      if (!supported) logger.warn({ connectionId: connection.id }, `this Orchestrator does not know job references; launches carry ${LAUNCH_ID_ARGUMENT} instead`)
    }

    try {
      return await run(false)
    } catch (error) {
      // Cached ids Orchestrator no longer knows (folder or process re-created): drop them, once.
      if (!isStaleIdError(error) || (robot.cached_folder_id === null && robot.cached_release_key === null)) throw error
      await db.updateTable('robots').set({ cached_folder_id: null, cached_release_key: null }).where('id', '=', robot.id).execute()
      return await run(true)
    }
  }

  async function runClaimed (claimed: Claimed): Promise<LaunchOutcome> {
    const { row } = claimed
    // The claim outlives this worker only by claimMs: renewed while the attempt runs (a StartJobs
    // may take minutes), so no other worker takes a launch that is still being attempted here.
    const renew = setInterval(() => {
      db.updateTable('launches').set({ locked_until: sql<Date>`now() + ${`${deps.claimMs} milliseconds`}::interval` })
        .where('id', '=', row.id).where('state', '=', 'launching').execute()
        .catch((error: unknown) => { logger.warn({ err: error, launchId: row.id }, 'could not renew the launch claim') })
    }, Math.max(100, Math.floor(deps.claimMs / 3)))
    const progress = { sent: false }
    try {
      return await attemptProgress.run(progress, async () => await attemptAndRecord(claimed))
    } catch (error) {
      // Not even the outcome could be recorded (the database is away): if no start left this
      // process, the row is handed back as soon as the database answers, not left to look unsure.
      if (!progress.sent) unsent.set(claimed.token, Date.now())
      throw error
    } finally {
      clearInterval(renew)
    }
  }

  async function attemptAndRecord (claimed: Claimed): Promise<LaunchOutcome> {
    const { row } = claimed
    try {
      return await attempt(claimed)
    } catch (error) {
      if (error instanceof Unsure) return await scheduleRecheck(row, error)
      if (error instanceof PermanentFailure || error instanceof PlanTooLarge || error instanceof FilesRefused) return await markFailed(row, error.message, error)
      if (error instanceof OrchestratorError && !error.transient) return await markFailed(row, error.message, error)
      if (error instanceof TargetError && !error.transient) return await markFailed(row, error.message, error)
      if (row.attempts >= deps.maxAttempts) {
        return await markFailed(row, `gave up after ${row.attempts} attempts: ${error instanceof Error ? error.message : String(error)}`, error)
      }
      return await scheduleRetry(row, error)
    }
  }

  async function currentOutcome (launchId: string): Promise<LaunchOutcome> {
    const row = await db.selectFrom('launches').select(['id', 'state', 'job_id', 'job_key', 'last_error']).where('id', '=', launchId).executeTakeFirstOrThrow()
    const state: LaunchState | 'retrying' = row.state === 'pending' && row.last_error !== null ? 'retrying' : row.state
    return { id: row.id, state, jobId: row.job_id, jobKey: row.job_key, ...(row.last_error !== null ? { reason: row.last_error } : {}) }
  }

  return {
    async launch (launchId) {
      return await attemptWithin(launchId, async () => await claimById(launchId))
    },

    async decideAndLaunch (decision) {
      const token = randomUUID()
      let claimed: Claimed | null
      try {
        await handBackUnsent()
        claimed = await claimWithDecision(decision, token)
      } catch (error) {
        // The statement may have committed with its answer lost: nothing was attempted under it.
        unsent.set(token, Date.now())
        throw error
      }
      if (claimed === null) return null
      const taken = claimed
      return { launchId: taken.row.id, outcome: attemptWithin(taken.row.id, async () => taken) }
    },

    async cancel (request) {
      return await cancelLaunch({ db, secrets: deps.secrets, orchestrator: deps.orchestrator, platforms }, request)
    },

    async runDue (limit = 20) {
      let done = 0
      while (done < limit) {
        const [claimed] = await claimRows(null)
        if (claimed === undefined) break
        await runClaimed(claimed)
        done++
      }
      return done
    }
  }

  /** Claims (or takes the claimed) launch and attempts it; answers by the door's deadline, whatever the attempt is still waiting for. */
  async function attemptWithin (launchId: string, claim: () => Promise<Claimed | null>): Promise<LaunchOutcome> {
    // Who the door is waiting for, named in its answer: Orchestrator unless the robot is elsewhere.
    let waitingOn = 'Orchestrator'
    const work = (async () => {
      const claimed = await claim()
      if (claimed === null) return await currentOutcome(launchId)
      if (claimed.target !== null) waitingOn = PLATFORM_NAMES[claimed.target.kind]
      return await runClaimed(claimed)
    })()
    // Whatever happens after the deadline is recorded by the work itself; the door does not wait.
    work.catch((error: unknown) => { logger.error({ err: error, launchId }, 'launch attempt failed unexpectedly; the queue will retry it') })
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<LaunchOutcome>((resolve) => {
      timer = setTimeout(() => { resolve({ id: launchId, state: 'retrying', reason: `${waitingOn} has not answered yet; mailrun keeps trying and will report the outcome` }) }, deps.deadlineMs)
    })
    try {
      return await Promise.race([work, deadline])
    } catch {
      return { id: launchId, state: 'retrying', reason: 'the launch will be retried' }
    } finally {
      clearTimeout(timer)
    }
  }
}
