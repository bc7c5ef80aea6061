import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely, Selectable } from 'kysely'
import { isUniqueViolation } from '../../db/errors.js'
import { newestFirst } from '../../db/pagination.js'
import type { Database, FunctionDeclaration, ParameterDeclaration, RobotsTable } from '../../db/schema.js'
import { errors, fieldError } from '../../errors.js'
import { tenantOf } from '../../plugins/auth.js'
import { robotNameKey } from '../../robots/robot-name.js'
import { errorResponses, IdParams, ListQuery, Nullable, Page, Timestamp, Uuid, Word } from '../../schemas/common.js'

const ParameterType = Type.Union(['string', 'number', 'boolean', 'date'].map((t) => Type.Literal(t)))

const Parameter = Type.Object({
  name: Word,
  type: ParameterType,
  required: Type.Optional(Type.Boolean({ default: false })),
  description: Type.Optional(Type.String({ maxLength: 500 }))
}, { additionalProperties: false })

const RobotFunction = Type.Object({
  name: Word,
  description: Type.Optional(Type.String({ maxLength: 500 })),
  parameters: Type.Optional(Type.Array(Parameter, { default: [], maxItems: 100 }))
}, { additionalProperties: false })

const LaunchMode = Type.Union([Type.Literal('job'), Type.Literal('queue')], { description: 'job: StartJobs; queue: AddQueueItem to queueName.' })

const robotFields = {
  name: Type.String({ minLength: 1, maxLength: 200, description: 'What senders write as the subject. Unique per tenant, case-insensitive.' }),
  processName: Type.String({ minLength: 1, maxLength: 200, description: 'The Orchestrator process (release) name. Defaults to name.' }),
  folder: Nullable(Type.String({ minLength: 1, maxLength: 500, description: "The folder's fully qualified name. Null: the connection's default folder." })),
  launchMode: LaunchMode,
  queueName: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  functionsArgument: Word,
  allowAllSenders: Type.Boolean({ description: 'true: every active sender of the tenant may launch it; false: only senderIds.' }),
  senderIds: Type.Array(Uuid, { uniqueItems: true, maxItems: 10000 }),
  description: Type.String({ maxLength: 2000 }),
  parameters: Type.Array(Parameter, { maxItems: 100, description: 'Declared input arguments. When any are declared, undeclared arguments in an email are rejected.' }),
  functions: Type.Array(RobotFunction, { maxItems: 200, description: 'Declared functions. When any are declared, unknown functions in an email are rejected.' })
}

const createExample = {
  name: 'Monthly Report',
  processName: 'MonthlyReport',
  folder: 'Finance',
  launchMode: 'job',
  allowAllSenders: false,
  senderIds: ['3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d'],
  description: 'Builds the monthly finance report',
  parameters: [{ name: 'period', type: 'string', required: true }],
  functions: [
    { name: 'ExtractData', description: 'Pull data from the ERP', parameters: [{ name: 'region', type: 'string', required: true }, { name: 'currency', type: 'string' }] },
    { name: 'BuildReport' },
    { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }
  ]
}

const RobotCreate = Type.Object({
  name: robotFields.name,
  processName: Type.Optional(robotFields.processName),
  folder: Type.Optional(robotFields.folder),
  launchMode: Type.Optional({ ...LaunchMode, default: 'job' }),
  queueName: Type.Optional(robotFields.queueName),
  functionsArgument: Type.Optional({ ...robotFields.functionsArgument, default: 'in_Functions', description: 'The input argument that receives the function list (a JSON string).' }),
  allowAllSenders: Type.Optional({ ...robotFields.allowAllSenders, default: false }),
  senderIds: Type.Optional({ ...robotFields.senderIds, default: [] }),
  description: Type.Optional(robotFields.description),
  parameters: Type.Optional(robotFields.parameters),
  functions: Type.Optional(robotFields.functions)
}, { additionalProperties: false, examples: [createExample] })

const RobotPatch = Type.Partial(Type.Object(robotFields), { additionalProperties: false, minProperties: 1, examples: [{ allowAllSenders: true }] })

const StoredParameter = Type.Object({ name: Type.String(), type: ParameterType, required: Type.Boolean(), description: Type.Optional(Type.String()) })

const Robot = Type.Object({
  id: Uuid,
  ...robotFields,
  folder: Nullable(Type.String()),
  parameters: Type.Array(StoredParameter),
  functions: Type.Array(Type.Object({ name: Type.String(), description: Type.Optional(Type.String()), parameters: Type.Array(StoredParameter) })),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, {
  examples: [{
    id: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
    ...createExample,
    queueName: null,
    functionsArgument: 'in_Functions',
    parameters: [{ name: 'period', type: 'string', required: true }],
    functions: [{ name: 'BuildReport', parameters: [] }],
    createdAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:00:00.000Z'
  }]
})

type RobotRow = Selectable<RobotsTable>

function present (row: RobotRow, senderIds: string[]): Static<typeof Robot> {
  return {
    id: row.id,
    name: row.name,
    processName: row.process_name,
    folder: row.folder,
    launchMode: row.launch_mode,
    queueName: row.queue_name,
    functionsArgument: row.functions_argument,
    allowAllSenders: row.allow_all_senders,
    senderIds,
    description: row.description,
    parameters: row.parameters,
    functions: row.functions,
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

async function allowedSenders (db: Kysely<Database>, robotIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(robotIds.map((id) => [id, []]))
  if (robotIds.length === 0) return map
  const rows = await db.selectFrom('robot_senders').select(['robot_id', 'sender_id']).where('robot_id', 'in', robotIds).orderBy('sender_id').execute()
  for (const row of rows) map.get(row.robot_id)?.push(row.sender_id)
  return map
}

const robotRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.db
  const tags = ['robots']
  const security = [{ bearer: [] }]
  const nameTaken = (name: string) => new errors.Conflict(`a robot named "${name}" already exists in this tenant (names compare case-insensitively)`)
  const notFound = (id: string) => new errors.NotFound(`no robot ${id}`)

  app.addHook('onRequest', app.requireTenant)

  async function presentOne (row: RobotRow): Promise<Static<typeof Robot>> {
    return present(row, (await allowedSenders(db, [row.id])).get(row.id) ?? [])
  }

  async function setSenders (trx: Kysely<Database>, tenantId: string, robotId: string, senderIds: string[]): Promise<void> {
    if (senderIds.length > 0) {
      const known = await trx.selectFrom('senders').select('id').where('tenant_id', '=', tenantId).where('id', 'in', senderIds).execute()
      const missing = senderIds.filter((id) => !known.some((k) => k.id === id))
      if (missing.length > 0) throw fieldError('senderIds', `names senders that do not exist in this tenant: ${missing.join(', ')}`)
    }
    await trx.deleteFrom('robot_senders').where('robot_id', '=', robotId).execute()
    if (senderIds.length > 0) {
      await trx.insertInto('robot_senders').values(senderIds.map((senderId) => ({ tenant_id: tenantId, robot_id: robotId, sender_id: senderId }))).execute()
    }
  }

  function checkQueue (launchMode: string, queueName: string | null): void {
    if (launchMode === 'queue' && queueName === null) throw fieldError('queueName', 'is required when launchMode is queue')
  }

  app.post('/api/v1/robots', {
    schema: { tags, security, summary: 'Register a robot senders can launch', body: RobotCreate, response: { 201: Robot, ...errorResponses } }
  }, async (request, reply) => {
    const tenantId = tenantOf(request)
    const body = request.body
    const launchMode = body.launchMode ?? 'job'
    checkQueue(launchMode, body.queueName ?? null)
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
          functions_argument: body.functionsArgument ?? 'in_Functions',
          allow_all_senders: body.allowAllSenders ?? false,
          description: body.description ?? '',
          parameters: JSON.stringify(parameters),
          functions: JSON.stringify(functions)
        }).returningAll().executeTakeFirstOrThrow()
        await setSenders(trx, tenantId, inserted.id, body.senderIds ?? [])
        return inserted
      })
      return await reply.status(201).send(await presentOne(row))
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(body.name)
      throw error
    }
  })

  app.get('/api/v1/robots', {
    schema: { tags, security, summary: 'List robots', querystring: Type.Object(ListQuery), response: { 200: Page(Robot), ...errorResponses } }
  }, async (request) => {
    const { items, nextCursor } = await newestFirst(db.selectFrom('robots').selectAll().where('tenant_id', '=', tenantOf(request)), 'robots', 'created_at', request.query, { box: app.secrets, tenantId: tenantOf(request) })
    const senders = await allowedSenders(db, items.map((r) => r.id))
    return { items: items.map((r) => present(r, senders.get(r.id) ?? [])), nextCursor }
  })

  app.get('/api/v1/robots/:id', {
    schema: { tags, security, summary: 'Read a robot', params: IdParams, response: { 200: Robot, ...errorResponses } }
  }, async (request) => {
    const row = await db.selectFrom('robots').selectAll().where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (row === undefined) throw notFound(request.params.id)
    return await presentOne(row)
  })

  app.patch('/api/v1/robots/:id', {
    schema: { tags, security, summary: 'Change a robot (senderIds replaces the allow-list)', params: IdParams, body: RobotPatch, response: { 200: Robot, ...errorResponses } }
  }, async (request) => {
    const tenantId = tenantOf(request)
    const { id } = request.params
    const body = request.body
    try {
      const row = await db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('robots').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst()
        if (current === undefined) throw notFound(id)
        checkQueue(body.launchMode ?? current.launch_mode, body.queueName !== undefined ? body.queueName : current.queue_name)
        const moved = body.processName !== undefined || body.folder !== undefined
        const updated = await trx.updateTable('robots').set({
          ...(body.name !== undefined ? { name: body.name.trim(), name_key: robotNameKey(body.name) } : {}),
          ...(body.processName !== undefined ? { process_name: body.processName } : {}),
          ...(body.folder !== undefined ? { folder: body.folder } : {}),
          ...(body.launchMode !== undefined ? { launch_mode: body.launchMode } : {}),
          ...(body.queueName !== undefined ? { queue_name: body.queueName } : {}),
          ...(body.functionsArgument !== undefined ? { functions_argument: body.functionsArgument } : {}),
          ...(body.allowAllSenders !== undefined ? { allow_all_senders: body.allowAllSenders } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.parameters !== undefined ? { parameters: JSON.stringify(normalizeParameters('parameters', body.parameters)) } : {}),
          ...(body.functions !== undefined ? { functions: JSON.stringify(normalizeFunctions(body.functions)) } : {}),
          // The cached Orchestrator ids belong to the old process or folder.
          ...(moved ? { cached_folder_id: null, cached_release_key: null } : {}),
          updated_at: new Date()
        }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
        if (body.senderIds !== undefined) await setSenders(trx, tenantId, id, body.senderIds)
        return updated
      })
      return await presentOne(row)
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(body.name ?? '')
      throw error
    }
  })

  app.delete('/api/v1/robots/:id', {
    schema: { tags, security, summary: 'Delete a robot', params: IdParams, response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses } }
  }, async (request, reply) => {
    const deleted = await db.deleteFrom('robots').where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (deleted.numDeletedRows === 0n) throw notFound(request.params.id)
    return await reply.status(204).send(null)
  })
}

export default robotRoutes
