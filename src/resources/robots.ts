import type { Static } from '@sinclair/typebox'
import type { Kysely, Selectable } from 'kysely'
import { isUniqueViolation } from '../db/errors.js'
import { newestFirst } from '../db/pagination.js'
import { isBot, isDesktopFlow, isWorkQueue, type AttachmentPolicy, type BotTarget, type WorkQueueTarget, type Database, type DesktopFlowTarget, type FunctionDeclaration, type ParameterDeclaration, type RobotsTable, type RobotTarget } from '../db/schema.js'
import { errors, fieldError } from '../errors.js'
import { reservedRobotWord } from '../commands/command-grammar.js'
import { robotNameKey } from '../commands/robot-name.js'
import type { Parameter, Robot, RobotCreate, RobotFunction, RobotPatch } from '../schemas/robots.js'
import { announceChange, cursorScope, type PageOf, type PageQuery, type ResourceDeps } from './context.js'

// A tenant's robots: what each name launches (an Orchestrator process, or a run at an HTTP target), its declared catalogue
// (parameters and functions) and its allow-list of senders.

export type RobotView = Static<typeof Robot>
type RobotRow = Selectable<RobotsTable>

function present (row: RobotRow, senderIds: string[], operatorIds: string[]): RobotView {
  return {
    id: row.id,
    name: row.name,
    processName: row.process_name,
    folder: row.folder,
    launchMode: row.launch_mode,
    queueName: row.queue_name,
    invalidRows: row.invalid_rows,
    extraColumns: row.extra_columns,
    escapeFormulas: row.escape_formulas,
    attachments: row.attachments,
    functionsArgument: row.functions_argument,
    allowAllSenders: row.allow_all_senders,
    senderIds,
    operatorIds,
    description: row.description,
    parameters: row.parameters,
    functions: row.functions,
    connectionId: row.connection_id,
    powerAutomate: isDesktopFlow(row.target) ? row.target : null,
    automationAnywhere: isBot(row.target) || isWorkQueue(row.target) ? row.target : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

function normalizeParameters (field: string, parameters: Array<Static<typeof Parameter>>): ParameterDeclaration[] {
  const seen = new Set<string>()
  return parameters.map((p, i) => {
    const key = p.name.toLowerCase()
    if (seen.has(key)) throw fieldError(`${field}.${i}.name`, `repeats the parameter name "${p.name}"; names must be unique`)
    seen.add(key)
    return { name: p.name, type: p.type as ParameterDeclaration['type'], required: p.required ?? false, ...(p.description !== undefined ? { description: p.description } : {}) }
  })
}

function normalizeFunctions (functions: Array<Static<typeof RobotFunction>>): FunctionDeclaration[] {
  const seen = new Set<string>()
  return functions.map((f, i) => {
    const key = f.name.toLowerCase()
    if (seen.has(key)) throw fieldError(`functions.${i}.name`, `repeats the function name "${f.name}"; names must be unique`)
    seen.add(key)
    return { name: f.name, ...(f.description !== undefined ? { description: f.description } : {}), parameters: normalizeParameters(`functions.${i}.parameters`, f.parameters ?? []) }
  })
}

function checkQueue (launchMode: string, queueName: string | null, attachments: unknown): void {
  if (launchMode === 'queue' && queueName === null) throw fieldError('queueName', 'is required when launchMode is queue')
  if (launchMode === 'queue' && attachments !== null && attachments !== undefined) throw fieldError('attachments', 'applies to job robots only: a queue robot reads a spreadsheet attachment as its rows')
}

/** The stored policy, defaults filled in; null turns attachments off. */
function attachmentPolicy (given: Static<typeof RobotCreate>['attachments']): string | null {
  if (given === undefined || given === null) return null
  const policy: AttachmentPolicy = { bucket: (given.bucket ?? '').trim(), folder: (given.folder ?? '').replace(/^\/+|\/+$/g, ''), maxBytes: given.maxBytes ?? 10 * 1024 * 1024, types: given.types ?? [] }
  return JSON.stringify(policy)
}

/**
 * The connection a robot names, as stored: null for the tenant's UiPath connection (by its id or
 * none), else one of the tenant's connections, whose kind must take what the robot is.
 */
async function connectionOf (trx: Kysely<Database>, tenantId: string, connectionId: string | null, robot: { launchMode: string, attachments: unknown, powerAutomate: DesktopFlowTarget | null, automationAnywhere: BotTarget | WorkQueueTarget | null }): Promise<{ connection_id: string | null, target: string | null }> {
  const none = (): { connection_id: null, target: null } => {
    if (robot.powerAutomate !== null) throw fieldError('powerAutomate', 'is used only by robots on a power_automate connection: set connectionId to one, or leave powerAutomate out')
    if (robot.automationAnywhere !== null) throw fieldError('automationAnywhere', 'is used only by robots on an automation_anywhere connection: set connectionId to one, or leave automationAnywhere out')
    return { connection_id: null, target: null }
  }
  const uipathFiles = (): { connection_id: null, target: null } => {
    const attachments = robot.attachments as { bucket?: string } | null | undefined
    if (attachments !== null && attachments !== undefined && (attachments.bucket ?? '') === '') throw fieldError('attachments.bucket', 'is required for a UiPath robot: the storage bucket the files are uploaded to')
    return none()
  }
  if (connectionId === null) return uipathFiles()
  const uipath = await trx.selectFrom('orchestrator_connections').select('id').where('tenant_id', '=', tenantId).where('id', '=', connectionId).executeTakeFirst()
  if (uipath !== undefined) return uipathFiles()
  const found = await trx.selectFrom('connections').select(['id', 'kind']).where('tenant_id', '=', tenantId).where('id', '=', connectionId).executeTakeFirst()
  if (found === undefined) throw fieldError('connectionId', 'names no connection of this tenant: see GET /api/v1/connections')
  const platform = { http: 'an HTTP target', power_automate: 'Power Automate', automation_anywhere: 'Automation Anywhere' }[found.kind]
  if (robot.launchMode !== 'job' && found.kind !== 'automation_anywhere') throw fieldError('launchMode', `must be job for a robot launched through ${platform} (it takes launches, not queue items)`)
  const attachments = robot.attachments as { bucket?: string } | null | undefined
  if (found.kind === 'http') {
    if (attachments?.bucket !== undefined && attachments.bucket !== '') throw fieldError('attachments.bucket', 'is not used by a robot on an HTTP target: the files travel in the launch request; leave it out')
    return { ...none(), connection_id: found.id }
  }
  if (attachments !== null && attachments !== undefined) throw fieldError('attachments', `must be null for a robot launched through ${platform}: files are not sent there`)
  if (found.kind === 'automation_anywhere') {
    if (robot.powerAutomate !== null) throw fieldError('powerAutomate', 'is used only by robots on a power_automate connection: leave it out')
    const bot = robot.automationAnywhere
    if (robot.launchMode === 'queue') {
      if (!isWorkQueue(bot)) throw fieldError('automationAnywhere', 'a queue robot on an automation_anywhere connection names its queue: {"queueId"} of the workload management queue its work items go to')
      return { connection_id: found.id, target: JSON.stringify({ queueId: bot.queueId }) }
    }
    if (!isBot(bot)) throw fieldError('automationAnywhere', 'is required for a robot on an automation_anywhere connection: {"fileId", "runAsUserIds" or "poolIds"} of the bot and where it runs')
    if (bot.runAsUserIds.length === 0 && bot.poolIds.length === 0) throw fieldError('automationAnywhere', 'names no runAsUserIds and no poolIds: give the users or the device pools the bot may run on')
    return { connection_id: found.id, target: JSON.stringify(bot) }
  }
  if (robot.automationAnywhere !== null) throw fieldError('automationAnywhere', 'is used only by robots on an automation_anywhere connection: leave it out')
  if (robot.powerAutomate === null) throw fieldError('powerAutomate', 'is required for a robot on a power_automate connection: {"flowId", "connectionName"} of the desktop flow and the connection it runs on')
  return { connection_id: found.id, target: JSON.stringify(robot.powerAutomate) }
}

/** The stored form of a robot's desktop flow, defaults filled in. */
function desktopFlow (given: Static<typeof RobotCreate>['powerAutomate']): DesktopFlowTarget | null {
  if (given === undefined || given === null) return null
  return { flowId: given.flowId.toLowerCase(), connectionName: given.connectionName, connectionReference: given.connectionReference ?? false }
}

/** The stored form of a robot's bot (or work queue), defaults filled in. */
function botTarget (given: Static<typeof RobotCreate>['automationAnywhere']): BotTarget | WorkQueueTarget | null {
  if (given === undefined || given === null) return null
  if (given.fileId !== undefined && given.queueId !== undefined) throw fieldError('automationAnywhere', 'names a bot (fileId) and a queue (queueId): a job robot deploys a bot, a queue robot adds work items; give one')
  if (given.queueId !== undefined) {
    if ((given.runAsUserIds ?? []).length > 0 || (given.poolIds ?? []).length > 0) throw fieldError('automationAnywhere', 'runAsUserIds and poolIds are for a bot (fileId), not a queue: the queue\'s own settings say where its work items run')
    return { queueId: given.queueId }
  }
  if (given.fileId === undefined) throw fieldError('automationAnywhere', 'names no bot (fileId) and no queue (queueId): a job robot deploys a bot, a queue robot adds work items to a queue')
  return { fileId: given.fileId, runAsUserIds: given.runAsUserIds ?? [], poolIds: given.poolIds ?? [] }
}

const isAutomationAnywhere = (target: RobotTarget | null): target is BotTarget | WorkQueueTarget => isBot(target) || isWorkQueue(target)

/** What a robot's change leaves it naming on its platform: what the body says, else what it had, unless it moved to another connection without saying. */
function keptTarget<T extends RobotTarget> (given: T | null | undefined, current: RobotTarget | null, isKind: (t: RobotTarget | null) => t is T, moved: boolean): T | null {
  if (given !== undefined) return given
  return !moved && isKind(current) ? current : null
}

type SenderList = 'robot_senders' | 'robot_operators'

async function sendersOf (db: Kysely<Database>, robotIds: string[], table: SenderList = 'robot_senders'): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(robotIds.map((id) => [id, []]))
  if (robotIds.length === 0) return map
  const rows = await db.selectFrom(table).select(['robot_id', 'sender_id']).where('robot_id', 'in', robotIds).orderBy('sender_id').execute()
  for (const row of rows) map.get(row.robot_id)?.push(row.sender_id)
  return map
}

async function setSenders (trx: Kysely<Database>, tenantId: string, robotId: string, senderIds: string[], table: SenderList = 'robot_senders'): Promise<void> {
  const field = table === 'robot_senders' ? 'senderIds' : 'operatorIds'
  if (senderIds.length > 0) {
    const known = await trx.selectFrom('senders').select('id').where('tenant_id', '=', tenantId).where('id', 'in', senderIds).execute()
    const missing = senderIds.filter((id) => !known.some((k) => k.id === id))
    if (missing.length > 0) throw fieldError(field, `names senders that do not exist in this tenant: ${missing.join(', ')}`)
  }
  await trx.deleteFrom(table).where('robot_id', '=', robotId).execute()
  if (senderIds.length > 0) {
    await trx.insertInto(table).values(senderIds.map((senderId) => ({ tenant_id: tenantId, robot_id: robotId, sender_id: senderId }))).execute()
  }
}

/** A name email can never reach (read as help, status or cancel) is refused, naming the word. */
function refuseReservedName (name: string | undefined): void {
  const word = name === undefined ? null : reservedRobotWord(name)
  if (word !== null) throw new errors.Conflict(`a robot cannot be named "${name ?? ''}": an email whose subject is or starts with "${word}" is read as that request (help, status or cancel), so this robot could never be started by email. Choose another name.`)
}

const nameTaken = (name: string): Error => new errors.Conflict(`a robot named "${name}" already exists in this tenant (names compare case-insensitively)`)
const notFound = (id: string): Error => new errors.NotFound(`no robot ${id}`)

export function robotsResource (deps: ResourceDeps) {
  const { db } = deps
  const presentOne = async (row: RobotRow): Promise<RobotView> => present(row, (await sendersOf(db, [row.id])).get(row.id) ?? [], (await sendersOf(db, [row.id], 'robot_operators')).get(row.id) ?? [])

  return {
    async create (tenantId: string, body: Static<typeof RobotCreate>): Promise<RobotView> {
      refuseReservedName(body.name)
      const launchMode = body.launchMode ?? 'job'
      checkQueue(launchMode, body.queueName ?? null, body.attachments)
      const parameters = normalizeParameters('parameters', body.parameters ?? [])
      const functions = normalizeFunctions(body.functions ?? [])
      try {
        const row = await db.transaction().execute(async (trx) => {
          const inserted = await trx.insertInto('robots').values({
            tenant_id: tenantId,
            name: body.name.trim(),
            name_key: robotNameKey(body.name),
            process_name: body.processName ?? body.name.trim(),
            folder: body.folder ?? null,
            launch_mode: launchMode,
            queue_name: body.queueName ?? null,
            invalid_rows: body.invalidRows ?? 'reject',
            extra_columns: body.extraColumns ?? 'ignore',
            escape_formulas: body.escapeFormulas ?? true,
            attachments: attachmentPolicy(body.attachments),
            functions_argument: body.functionsArgument ?? 'in_Functions',
            allow_all_senders: body.allowAllSenders ?? false,
            description: body.description ?? '',
            parameters: JSON.stringify(parameters),
            functions: JSON.stringify(functions),
            ...await connectionOf(trx, tenantId, body.connectionId ?? null, { launchMode, attachments: body.attachments, powerAutomate: desktopFlow(body.powerAutomate), automationAnywhere: botTarget(body.automationAnywhere) })
          }).returningAll().executeTakeFirstOrThrow()
          await setSenders(trx, tenantId, inserted.id, body.senderIds ?? [])
          await setSenders(trx, tenantId, inserted.id, body.operatorIds ?? [], 'robot_operators')
          return inserted
        })
        await announceChange(deps, 'tenant', tenantId)
        return await presentOne(row)
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(body.name)
        throw error
      }
    },

    async list (tenantId: string, query: PageQuery): Promise<PageOf<RobotView>> {
      const { items, nextCursor } = await newestFirst(db.selectFrom('robots').selectAll().where('tenant_id', '=', tenantId), 'robots', 'created_at', query, cursorScope(deps, tenantId))
      const senders = await sendersOf(db, items.map((r) => r.id))
      const operators = await sendersOf(db, items.map((r) => r.id), 'robot_operators')
      return { items: items.map((r) => present(r, senders.get(r.id) ?? [], operators.get(r.id) ?? [])), nextCursor }
    },

    async get (tenantId: string, id: string): Promise<RobotView> {
      const row = await db.selectFrom('robots').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (row === undefined) throw notFound(id)
      return await presentOne(row)
    },

    /** Changes a robot; senderIds (operatorIds), when given, replaces the allow-list (the operators). */
    async update (tenantId: string, id: string, body: Static<typeof RobotPatch>): Promise<RobotView> {
      refuseReservedName(body.name)
      try {
        const row = await db.transaction().execute(async (trx) => {
          const current = await trx.selectFrom('robots').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst()
          if (current === undefined) throw notFound(id)
          checkQueue(body.launchMode ?? current.launch_mode, body.queueName !== undefined ? body.queueName : current.queue_name, body.attachments !== undefined ? body.attachments : current.attachments)
          const connectionId = body.connectionId !== undefined ? body.connectionId : current.connection_id
          const connection = await connectionOf(trx, tenantId, connectionId, {
            launchMode: body.launchMode ?? current.launch_mode,
            attachments: body.attachments !== undefined ? body.attachments : current.attachments,
            // Moved to another connection without saying: its flow or bot goes with it.
            powerAutomate: keptTarget(body.powerAutomate !== undefined ? desktopFlow(body.powerAutomate) : undefined, current.target, isDesktopFlow, body.connectionId !== undefined && body.connectionId !== current.connection_id),
            automationAnywhere: keptTarget(body.automationAnywhere !== undefined ? botTarget(body.automationAnywhere) : undefined, current.target, isAutomationAnywhere, body.connectionId !== undefined && body.connectionId !== current.connection_id)
          })
          const moved = body.processName !== undefined || body.folder !== undefined || connection.connection_id !== current.connection_id
          const updated = await trx.updateTable('robots').set({
            ...(body.name !== undefined ? { name: body.name.trim(), name_key: robotNameKey(body.name) } : {}),
            ...(body.processName !== undefined ? { process_name: body.processName } : {}),
            ...(body.folder !== undefined ? { folder: body.folder } : {}),
            ...(body.launchMode !== undefined ? { launch_mode: body.launchMode } : {}),
            ...(body.queueName !== undefined ? { queue_name: body.queueName } : {}),
            ...(body.invalidRows !== undefined ? { invalid_rows: body.invalidRows } : {}),
            ...(body.extraColumns !== undefined ? { extra_columns: body.extraColumns } : {}),
            ...(body.escapeFormulas !== undefined ? { escape_formulas: body.escapeFormulas } : {}),
            ...(body.attachments !== undefined ? { attachments: attachmentPolicy(body.attachments) } : {}),
            ...(body.functionsArgument !== undefined ? { functions_argument: body.functionsArgument } : {}),
            ...(body.allowAllSenders !== undefined ? { allow_all_senders: body.allowAllSenders } : {}),
            ...(body.description !== undefined ? { description: body.description } : {}),
            ...(body.parameters !== undefined ? { parameters: JSON.stringify(normalizeParameters('parameters', body.parameters)) } : {}),
            ...(body.functions !== undefined ? { functions: JSON.stringify(normalizeFunctions(body.functions)) } : {}),
            ...connection,
            // The cached Orchestrator ids belong to the old process or folder.
            ...(moved ? { cached_folder_id: null, cached_release_key: null } : {}),
            updated_at: new Date()
          }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
          if (body.senderIds !== undefined) await setSenders(trx, tenantId, id, body.senderIds)
          if (body.operatorIds !== undefined) await setSenders(trx, tenantId, id, body.operatorIds, 'robot_operators')
          return updated
        })
        await announceChange(deps, 'tenant', tenantId)
        return await presentOne(row)
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(body.name ?? '')
        throw error
      }
    },

    async remove (tenantId: string, id: string): Promise<void> {
      const deleted = await db.deleteFrom('robots').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw notFound(id)
      await announceChange(deps, 'tenant', tenantId)
    }
  }
}

export type RobotsResource = ReturnType<typeof robotsResource>
