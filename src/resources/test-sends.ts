import { createHash, randomUUID } from 'node:crypto'
import type { Static } from '@sinclair/typebox'
import { isBot, isDesktopFlow, isWorkQueue, type FunctionDeclaration, type ParameterDeclaration, type Problem, type RobotTarget } from '../db/schema.js'
import { LAUNCH_INPUT } from '../targets/power-automate/dataverse-client.js'
import { deployBody, REFERENCE_ATTRIBUTE } from '../targets/automation-anywhere/control-room-client.js'
import { isUniqueViolation } from '../db/errors.js'
import { errors, fieldError } from '../errors.js'
import { inputArguments, PlanTooLarge, serializeInputArguments } from '../launch/input-arguments.js'
import { loadConnection } from '../orchestrator/connection.js'
import { findRelease } from '../orchestrator/jobs.js'
import type { Launcher } from '../pipeline/launcher.js'
import type { LaunchPlan } from '../commands/validate-plan.js'
import { readCommand } from '../commands/read-command.js'
import type { TestSendCreate, TestSendResult } from '../schemas/test-sends.js'
import type { ResourceDeps } from './context.js'

// Trying a robot without an email: the command is checked exactly as an email's would be (the
// sender's permission, the grammar, the robot's catalogue). A dry run then shows the StartJobs or
// AddQueueItem request a launch would send (RunDesktopFlow, or the HTTP target's POST, for robots
// on other platforms), looking up the folder and the process read-only; a real
// run stores a message of door "console" (its reason says who ran it) and launches it through the
// same launch service as mail, exactly once. No reply is emailed for a test.

type Result = Static<typeof TestSendResult>
const rejected = (problems: Problem[]): Result => ({ outcome: 'rejected', problems, request: null, messageId: null, launch: null })

export function testSendsResource (deps: ResourceDeps & { launcher: Launcher }) {
  const { db } = deps

  /** The request a launch of this plan would send, with the folder and process looked up; a problem when they cannot be. */
  async function requestFor (tenantId: string, robot: { name: string, process_name: string, folder: string | null, launch_mode: 'job' | 'queue', queue_name: string | null, functions_argument: string, connection_id: string | null, target: RobotTarget | null }, plan: LaunchPlan, sender: string): Promise<Result['request'] | Problem> {
    if (robot.connection_id !== null) return await targetRequest(robot.connection_id, robot, plan, sender)
    const connection = await loadConnection(db, deps.secrets, tenantId)
    if (connection === null) return { message: 'no Orchestrator connection is configured for this tenant: set it up first' }
    const folder = robot.folder ?? connection.defaultFolder
    if (folder === null) return { message: 'the robot names no folder and the Orchestrator connection has no default folder' }
    const args = inputArguments(plan, robot.functions_argument)
    try {
      serializeInputArguments(args)
    } catch (error) {
      if (error instanceof PlanTooLarge) return { message: error.message }
      throw error
    }
    try {
      const client = deps.orchestrator.clientFor(connection)
      const found = await client.findFolder(folder)
      if (found === null) return { message: `Orchestrator folder "${folder}" was not found (or these credentials cannot see it)` }
      if (robot.launch_mode === 'queue') {
        return { method: 'POST', path: '/odata/Queues/UiPathODataSvc.AddQueueItem', folder, body: { itemData: { Name: robot.queue_name ?? '', Priority: 'Normal', SpecificContent: args, Reference: '(the launch id)' } } }
      }
      const release = await findRelease(client, found.Id, robot.process_name, folder)
      if (release === null) return { message: `process "${robot.process_name}" was not found in folder "${folder}"` }
      return { method: 'POST', path: '/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs', folder, body: { startInfo: { ReleaseKey: release.Key, Strategy: 'ModernJobsCount', JobsCount: 1, InputArguments: JSON.stringify(args), Reference: '(the launch id)' } } }
    } catch (error) {
      return { message: `Orchestrator could not be asked: ${(error as Error).message}` }
    }
  }

  /** What another platform would be sent: the desktop flow's RunDesktopFlow, the bot's deploy, or the HTTP target's POST (before signing). */
  async function targetRequest (connectionId: string, robot: { name: string, functions_argument: string, target: RobotTarget | null }, plan: LaunchPlan, sender: string): Promise<Result['request'] | Problem> {
    const connection = await db.selectFrom('connections').select(['kind', 'url_hint']).where('id', '=', connectionId).executeTakeFirstOrThrow()
    if (connection.kind === 'http') {
      return { method: 'POST', path: `${connection.url_hint}/…`, folder: null, body: { launchId: '(the launch id)', robot: robot.name, sender, inputs: plan.arguments, functions: plan.functions.map((f) => ({ name: f.name, args: f.args })), attachments: [] } }
    }
    if (connection.kind === 'automation_anywhere') {
      if (isWorkQueue(robot.target)) {
        return { method: 'POST', path: `/v3/wlm/queues/${robot.target.queueId}/workitems`, folder: null, body: { workItems: [{ json: { ...inputArguments(plan, robot.functions_argument), [REFERENCE_ATTRIBUTE]: '(the launch id)' } }] } }
      }
      if (!isBot(robot.target)) return { message: `robot "${robot.name}" names no bot (automationAnywhere.fileId)` }
      return { method: 'POST', path: '/v3/automations/deploy', folder: null, body: deployBody(robot.target, '(the launch id)', inputArguments(plan, robot.functions_argument)) }
    }
    if (!isDesktopFlow(robot.target)) return { message: `robot "${robot.name}" names no desktop flow (powerAutomate.flowId)` }
    return {
      method: 'POST',
      path: `/api/data/v9.2/workflows(${robot.target.flowId})/Microsoft.Dynamics.CRM.RunDesktopFlow`,
      folder: null,
      body: { runMode: 'unattended', runPriority: 'normal', connectionName: robot.target.connectionName, connectionType: robot.target.connectionReference ? 2 : 1, timeout: 7200, inputs: JSON.stringify({ ...inputArguments(plan, robot.functions_argument), [LAUNCH_INPUT]: '(the launch id)' }) }
    }
  }

  /** The first answer to a key, as things stand now; null when the key is new. Another body under the same key is refused. */
  async function answeredBefore (tenantId: string, dedupeKey: string, fingerprint: string): Promise<Result | null> {
    const row = await db.selectFrom('messages').leftJoin('launches', 'launches.message_id', 'messages.id')
      .select(['messages.id as message_id', 'messages.raw_sha256', 'launches.id as launch_id', 'launches.state', 'launches.job_id', 'launches.last_error'])
      .where('messages.tenant_id', '=', tenantId).where('messages.dedupe_key', '=', dedupeKey).executeTakeFirst()
    if (row === undefined) return null
    if (row.raw_sha256 !== fingerprint) throw new errors.UnprocessableEntity('this Idempotency-Key was already used for a different test send: use a new key for a new request')
    if (row.launch_id === null) return null
    const state = row.state === 'failed' ? 'failed' : row.state === 'pending' || row.state === 'launching' ? 'retrying' : 'launched'
    return { outcome: state, problems: [], request: null, messageId: row.message_id, launch: { id: row.launch_id, state: row.state === 'pending' && row.last_error !== null ? 'retrying' : row.state ?? 'pending', jobId: row.job_id, ...(row.last_error !== null ? { reason: row.last_error } : {}) } }
  }

  return {
    /** `idempotencyKey`: a real run with a key already used answers what the first did, launching nothing more. */
    async run (tenantId: string, body: Static<typeof TestSendCreate>, by: string, idempotencyKey?: string): Promise<Result> {
      const robot = await db.selectFrom('robots').selectAll().where('tenant_id', '=', tenantId).where('id', '=', body.robotId).executeTakeFirst()
      if (robot === undefined) throw fieldError('robotId', 'names no robot of this tenant')
      const sender = await db.selectFrom('senders').select(['id', 'email', 'active', 'full_name']).select((eb) =>
        eb.exists(eb.selectFrom('robot_senders').select('sender_id').where('robot_id', '=', robot.id).whereRef('sender_id', '=', 'senders.id')).as('allowed'))
        .where('tenant_id', '=', tenantId).where('id', '=', body.senderId).executeTakeFirst()
      if (sender === undefined) throw fieldError('senderId', 'names no sender of this tenant')
      let mailboxes = db.selectFrom('mailboxes').select(['id', 'address']).where('tenant_id', '=', tenantId)
      if (body.mailboxId !== undefined) mailboxes = mailboxes.where('id', '=', body.mailboxId)
      const mailbox = await mailboxes.orderBy('created_at').executeTakeFirst()
      if (mailbox === undefined) throw body.mailboxId !== undefined ? fieldError('mailboxId', 'names no mailbox of this tenant') : new errors.Conflict('the tenant has no service mailbox yet: a test is a message to one of them, so add a mailbox first')

      if (!sender.active) return rejected([{ message: `${sender.email} is deactivated: it cannot launch anything` }])
      if (!robot.allow_all_senders && sender.allowed !== true) return rejected([{ message: `${sender.email} is not allowed to run "${robot.name}": add them to its allow-list` }])
      const { plan, problems } = readCommand(body.text, { name: robot.name, parameters: robot.parameters as ParameterDeclaration[], functions: robot.functions as FunctionDeclaration[] })
      if (problems.length > 0) return rejected(problems)

      if (body.dryRun !== false) {
        const request = await requestFor(tenantId, robot, plan, sender.email)
        if (request !== null && 'message' in request) return rejected([request])
        return { outcome: 'valid', problems: [], request, messageId: null, launch: null }
      }

      const text = body.text
      // With an Idempotency-Key the message's dedupe key is derived from it: the same key again
      // meets the first message (and its one launch) instead of making a second.
      const dedupeKey = idempotencyKey === undefined ? `console:${randomUUID()}` : `console:key:${createHash('sha256').update(`${tenantId}\n${idempotencyKey}`).digest('hex')}`
      const fingerprint = createHash('sha256').update(JSON.stringify([body.robotId, body.senderId, body.mailboxId ?? null, text])).digest('hex')
      if (idempotencyKey !== undefined) {
        const earlier = await answeredBefore(tenantId, dedupeKey, fingerprint)
        if (earlier !== null) return earlier
      }
      let launchId: { message: string, launch: string }
      try {
        launchId = await db.transaction().execute(async (trx) => {
          const message = await trx.insertInto('messages').values({
            tenant_id: tenantId,
            mailbox_id: mailbox.id,
            door: 'console',
            dedupe_key: dedupeKey,
            from_address: sender.email,
            sender_id: sender.id,
            robot_id: robot.id,
            subject: robot.name,
            body: text,
            raw_sha256: fingerprint,
            size_bytes: Buffer.byteLength(text),
            status: 'accepted',
            reason: `console test by ${by}`,
            processed_at: new Date()
          }).returning('id').executeTakeFirstOrThrow()
          // Attempted right below; the queue takes it only if that never happens (as for mail).
          const launch = await trx.insertInto('launches').values({ tenant_id: tenantId, message_id: message.id, robot_id: robot.id, sender_id: sender.id, plan: JSON.stringify(plan), next_attempt_at: new Date(Date.now() + 30_000) })
            .returning('id').executeTakeFirstOrThrow()
          await trx.insertInto('launch_events').values({ launch_id: launch.id, state: 'pending', detail: `console test by ${by}` }).execute()
          return { message: message.id, launch: launch.id }
        })
      } catch (error) {
        // Two requests with one key at once: the second meets the first's message.
        const earlier = idempotencyKey !== undefined && isUniqueViolation(error) ? await answeredBefore(tenantId, dedupeKey, fingerprint) : null
        if (earlier !== null) return earlier
        throw error
      }
      const outcome = await deps.launcher.launch(launchId.launch)
      const state = outcome.state === 'launched' || outcome.state === 'completed' ? 'launched' : outcome.state === 'failed' ? 'failed' : 'retrying'
      return { outcome: state, problems: [], request: null, messageId: launchId.message, launch: { id: outcome.id, state: outcome.state, ...(outcome.jobId !== undefined ? { jobId: outcome.jobId } : {}), ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) } }
    }
  }
}

export type TestSendsResource = ReturnType<typeof testSendsResource>
