import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listenLocally, readBody } from './local-http.js'

// A local stand-in for an Automation Anywhere (Automation 360) Control Room as mailrun uses it,
// following the public Control Room API: POST /v1/authentication (username and API key → a token,
// sent back as X-Authorization, valid 20 minutes), POST /v3/automations/deploy (fileId,
// runAsUserIds or poolIds, typed botInput → deploymentId), POST /v3/activity/list (filters on
// deploymentId, automationName, status; botOutVariables once a run ends), POST /v3/activity/manage
// (stop_executions), workload management queues (POST /v3/wlm/queues/{id}/workitems, and
// …/workitems/list) and the public workspace's file list, with the Control Room's error bodies
// ({"code", "details", "message"}). It is a stand-in and says so; never the service.

export type ActivityStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'RUN_FAILED' | 'RUN_ABORTED' | 'RUN_TIMED_OUT' | 'DEPLOY_FAILED'

export interface Activity {
  id: string
  deploymentId: string
  automationName: string
  fileId: number
  runAsUserId: number | null
  status: ActivityStatus
  message: string
  startDateTime: string
  endDateTime: string | null
  botInput: Record<string, Record<string, unknown>>
  botOutVariables: { values: Record<string, Record<string, unknown>> }
}

export interface WorkItem { id: number, json: Record<string, unknown>, status: 'NEW' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED', createdOn: string }

/** A workload management queue: its work item model's attributes (null: any), and its items. */
export interface WorkQueue { name: string, attributes: Set<string> | null, items: WorkItem[] }

export interface ControlRoomStandIn {
  url: string
  /** Users and their API keys. */
  users: Map<string, { id: number, apiKey: string }>
  /** Bots of the public workspace (file ids), the users with unattended licences, the device pools. */
  bots: Set<number>
  runners: Set<number>
  pools: Set<number>
  activities: Map<string, Activity>
  queues: Map<number, WorkQueue>
  /** The next work item requests: answered with this status and error, or (`lost`) added and the connection dropped before any answer. */
  failNextWorkItems: (answers: Array<{ status: number, message?: string } | 'lost'>) => void
  /** Every request (sign-ins included, their keys hidden), as received. */
  requests: Array<{ method: string, path: string, body: string }>
  /** How long a token lasts (the product's 20 minutes). */
  tokenMs: number
  /** The next deploy requests: answered with this status and error (and Retry-After), or (`lost`) deployed and the connection dropped before any answer. */
  failNextDeploys: (answers: Array<{ status: number, message?: string, retryAfter?: number } | 'lost'>) => void
  /** Forgets every token, as a Control Room restart or a revoked session would. */
  revokeTokens: () => void
  /** Moves a run on, as its Bot Runner would. */
  finish: (deploymentId: string, status: ActivityStatus, result?: { outputs?: Record<string, Record<string, unknown>>, message?: string }) => void
  close: () => Promise<void>
}

const RUNNING = new Set<ActivityStatus>(['QUEUED', 'RUNNING'])
const TYPES = new Set(['STRING', 'NUMBER', 'BOOLEAN', 'LIST', 'DICTIONARY', 'DATETIME'])

interface Filter { operator?: string, field?: string, value?: unknown, operands?: Filter[] }

function matches (activity: Activity, filter: Filter | undefined): boolean {
  if (filter === undefined || filter.operator === undefined || filter.operator === 'NONE') return true
  const op = filter.operator.toLowerCase()
  if (op === 'and') return (filter.operands ?? []).every((f) => matches(activity, f))
  if (op === 'or') return (filter.operands ?? []).some((f) => matches(activity, f))
  const value = (activity as unknown as Record<string, unknown>)[filter.field ?? '']
  if (op === 'eq') return String(value) === String(filter.value)
  if (op === 'substring') return String(value).includes(String(filter.value))
  return false
}

export async function startControlRoomStandIn (options: { port?: number } = {}): Promise<ControlRoomStandIn> {
  const tokens = new Map<string, number>()
  const scripted: Array<{ status: number, message?: string, retryAfter?: number } | 'lost'> = []
  const scriptedItems: Array<{ status: number, message?: string } | 'lost'> = []
  let nextItemId = 1000

  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers })
    response.end(JSON.stringify(body))
  }
  const fault = (response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void => { json(response, status, { code, details: '', message }, headers) }

  const standIn: ControlRoomStandIn = {
    url: '',
    users: new Map(),
    bots: new Set(),
    runners: new Set(),
    pools: new Set(),
    activities: new Map(),
    queues: new Map(),
    failNextWorkItems: (answers) => { scriptedItems.push(...answers) },
    requests: [],
    tokenMs: 20 * 60_000,
    failNextDeploys: (answers) => { scripted.push(...answers) },
    revokeTokens: () => { tokens.clear() },
    finish: (deploymentId, status, result = {}) => {
      const activity = [...standIn.activities.values()].find((a) => a.deploymentId === deploymentId)
      if (activity === undefined) throw new Error(`no activity for deployment ${deploymentId}`)
      Object.assign(activity, { status, endDateTime: new Date().toISOString(), message: result.message ?? '', botOutVariables: { values: result.outputs ?? {} } })
    },
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) }
  }

  function authenticate (body: string, response: ServerResponse): void {
    let given: { username?: unknown, apiKey?: unknown, password?: unknown }
    try { given = JSON.parse(body) as typeof given } catch { return fault(response, 400, 'bad.request', 'The request body is not valid JSON.') }
    if (typeof given.username !== 'string' || (typeof given.apiKey !== 'string' && typeof given.password !== 'string')) return fault(response, 400, 'bad.request', 'username and apiKey (or password) are required.')
    const user = standIn.users.get(given.username)
    if (user === undefined || user.apiKey !== given.apiKey) return fault(response, 401, 'um.authentication.failed', 'Invalid credentials. Please try again or contact your Control Room administrator.')
    const token = `eyJ${randomUUID().replace(/-/g, '')}`
    tokens.set(token, Date.now() + standIn.tokenMs)
    json(response, 200, { token, user: { id: user.id, username: given.username } })
  }

  function authorized (request: IncomingMessage): boolean {
    const token = request.headers['x-authorization']
    const until = typeof token === 'string' ? tokens.get(token) : undefined
    return until !== undefined && until > Date.now()
  }

  function deploy (body: string, request: IncomingMessage, response: ServerResponse): void {
    let given: { fileId?: unknown, runAsUserIds?: unknown, poolIds?: unknown, botInput?: unknown, automationName?: unknown, numOfRunAsUsersToUse?: unknown }
    try { given = JSON.parse(body) as typeof given } catch { return fault(response, 400, 'bad.request', 'The request body is not valid JSON.') }
    if (typeof given.fileId !== 'number' || !Number.isInteger(given.fileId)) return fault(response, 400, 'bad.request', 'fileId is required and must be a number.')
    if (!standIn.bots.has(given.fileId)) return fault(response, 404, 'file.not.found', `File with id ${given.fileId} not found.`)
    const users = Array.isArray(given.runAsUserIds) ? given.runAsUserIds : []
    const pools = Array.isArray(given.poolIds) ? given.poolIds : []
    if (users.length === 0 && pools.length === 0) return fault(response, 400, 'bad.request', 'Either runAsUserIds or poolIds must be provided.')
    const unknownUser = users.find((u) => typeof u !== 'number' || !standIn.runners.has(u))
    if (unknownUser !== undefined) return fault(response, 400, 'user.not.licensed', `User ${String(unknownUser)} does not have an unattended Bot Runner license.`)
    const unknownPool = pools.find((p) => typeof p !== 'number' || !standIn.pools.has(p))
    if (unknownPool !== undefined) return fault(response, 400, 'pool.not.found', `Device pool ${String(unknownPool)} not found.`)
    const input = (given.botInput ?? {}) as Record<string, Record<string, unknown>>
    for (const [name, value] of Object.entries(input)) {
      const type = typeof value?.type === 'string' ? value.type : ''
      if (!TYPES.has(type) || !(type.toLowerCase() in value)) return fault(response, 400, 'bad.request', `Invalid value for bot input variable ${name}: expected {"type", "${type.toLowerCase() || 'string'}"}.`)
    }
    const next = scripted.shift()
    if (next !== undefined && next !== 'lost') return fault(response, next.status, next.status === 429 ? 'too.many.requests' : 'server.error', next.message ?? 'An unexpected error occurred.', next.retryAfter !== undefined ? { 'retry-after': String(next.retryAfter) } : {})
    const deploymentId = randomUUID()
    const automationName = typeof given.automationName === 'string' ? given.automationName : `${given.fileId}_${deploymentId}`
    const id = `${randomUUID()}_${typeof users[0] === 'number' ? users[0] : 0}`
    standIn.activities.set(id, { id, deploymentId, automationName, fileId: given.fileId, runAsUserId: typeof users[0] === 'number' ? users[0] : null, status: 'RUNNING', message: '', startDateTime: new Date().toISOString(), endDateTime: null, botInput: input, botOutVariables: { values: {} } })
    if (next === 'lost') { request.socket.destroy(); return }
    json(response, 200, { deploymentId, automationName })
  }

  function list (body: string, response: ServerResponse): void {
    let given: { filter?: Filter, page?: { offset?: number, length?: number } }
    try { given = JSON.parse(body === '' ? '{}' : body) as typeof given } catch { return fault(response, 400, 'bad.request', 'The request body is not valid JSON.') }
    const found = [...standIn.activities.values()].filter((a) => matches(a, given.filter)).sort((a, b) => b.startDateTime.localeCompare(a.startDateTime))
    const offset = given.page?.offset ?? 0
    const length = given.page?.length ?? 100
    json(response, 200, { page: { offset, total: standIn.activities.size, totalFilter: found.length }, list: found.slice(offset, offset + length).map(({ botInput, ...shown }) => shown) })
  }

  function manage (body: string, response: ServerResponse): void {
    let given: { stop_executions?: { execution_ids?: unknown } }
    try { given = JSON.parse(body) as typeof given } catch { return fault(response, 400, 'bad.request', 'The request body is not valid JSON.') }
    const ids = given.stop_executions?.execution_ids
    if (!Array.isArray(ids) || ids.length === 0) return fault(response, 400, 'bad.request', 'stop_executions.execution_ids is required.')
    const errors: unknown[] = []
    for (const id of ids) {
      const activity = standIn.activities.get(String(id))
      if (activity === undefined) errors.push({ execution_id: id, error_response: { code: 'execution.not.found', message: `Execution ${String(id)} not found.` } })
      else if (RUNNING.has(activity.status)) Object.assign(activity, { status: 'RUN_ABORTED', endDateTime: new Date().toISOString(), message: 'Stopped by user' })
    }
    json(response, 200, { manage_action_errors: errors })
  }

  function addWorkItems (queueId: number, body: string, request: IncomingMessage, response: ServerResponse): void {
    const queue = standIn.queues.get(queueId)
    if (queue === undefined) return fault(response, 404, 'wlm.queue.not.found', `Queue with id ${queueId} not found.`)
    let given: { workItems?: unknown }
    try { given = JSON.parse(body) as typeof given } catch { return fault(response, 400, 'bad.request', 'The request body is not valid JSON.') }
    if (!Array.isArray(given.workItems) || given.workItems.length === 0) return fault(response, 400, 'bad.request', 'workItems is required: a list of {"json": {...}}.')
    const items = given.workItems as Array<{ json?: unknown }>
    for (const item of items) {
      if (typeof item?.json !== 'object' || item.json === null || Array.isArray(item.json)) return fault(response, 400, 'bad.request', 'Each work item needs a json object of its attributes.')
      const unknown = queue.attributes === null ? undefined : Object.keys(item.json).find((key) => !(queue.attributes as Set<string>).has(key))
      if (unknown !== undefined) return fault(response, 400, 'wlm.workitem.attribute.invalid', `Attribute ${unknown} is not defined in the work item model of queue ${queue.name}.`)
    }
    const next = scriptedItems.shift()
    if (next !== undefined && next !== 'lost') return fault(response, next.status, 'server.error', next.message ?? 'An unexpected error occurred.')
    const added = items.map((item) => ({ id: nextItemId++, json: item.json as Record<string, unknown>, status: 'NEW' as const, createdOn: new Date().toISOString() }))
    queue.items.push(...added)
    if (next === 'lost') { request.socket.destroy(); return }
    json(response, 200, { list: added })
  }

  function listWorkItems (queueId: number, body: string, response: ServerResponse): void {
    const queue = standIn.queues.get(queueId)
    if (queue === undefined) return fault(response, 404, 'wlm.queue.not.found', `Queue with id ${queueId} not found.`)
    let given: { page?: { offset?: number, length?: number } }
    try { given = JSON.parse(body === '' ? '{}' : body) as typeof given } catch { return fault(response, 400, 'bad.request', 'The request body is not valid JSON.') }
    const offset = given.page?.offset ?? 0
    const length = Math.min(given.page?.length ?? 100, 1000)
    const sorted = [...queue.items].sort((a, b) => b.id - a.id)
    json(response, 200, { page: { offset, total: sorted.length, totalFilter: sorted.length }, list: sorted.slice(offset, offset + length) })
  }

  const server = createServer((request, response) => {
    readBody(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://stand-in')
      const path = url.pathname
      standIn.requests.push({ method: request.method ?? '', path, body: path === '/v1/authentication' ? body.replace(/"apiKey":"[^"]*"/, '"apiKey":"…"') : body })
      if (request.method === 'POST' && path === '/v1/authentication') return authenticate(body, response)
      if (!authorized(request)) return fault(response, 401, 'um.token.invalid', 'Unauthorized: the token is missing, invalid or expired.')
      if (request.method === 'POST' && path === '/v3/automations/deploy') return deploy(body, request, response)
      if (request.method === 'POST' && path === '/v3/activity/list') return list(body, response)
      if (request.method === 'POST' && path === '/v3/activity/manage') return manage(body, response)
      const workItems = /^\/v3\/wlm\/queues\/(\d+)\/workitems(\/list)?$/.exec(path)
      if (request.method === 'POST' && workItems !== null) return workItems[2] === undefined ? addWorkItems(Number(workItems[1]), body, request, response) : listWorkItems(Number(workItems[1]), body, response)
      if (request.method === 'POST' && path === '/v2/repository/workspaces/public/files/list') {
        return json(response, 200, { page: { offset: 0, total: standIn.bots.size, totalFilter: standIn.bots.size }, list: [...standIn.bots].map((id) => ({ id: String(id), name: `Bot ${id}`, type: 'application/vnd.aa.taskbot' })) })
      }
      fault(response, 404, 'not.found', `No handler for ${request.method ?? ''} ${path}.`)
    }).catch(() => { response.destroy() })
  })
  standIn.url = await listenLocally(server, options.port)
  return standIn
}
