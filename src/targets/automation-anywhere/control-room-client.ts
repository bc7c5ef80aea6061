import { createHash } from 'node:crypto'
import type { ArgumentValue } from '../../commands/validate-plan.js'
import type { BotTarget } from '../../db/schema.js'
import { outboundDispatcher } from '../../net/outbound-dispatcher.js'
import type { OutboundDeny } from '../../net/outbound-guard.js'
import { OutboundFailure, outboundRequest, type OutboundAnswer } from '../../net/outbound-request.js'
import { retryAfterMs } from '../../net/retry-after.js'
import type { RunReport } from '../http/http-target.js'
import { signInAndList, type ProbeStep } from '../probe-steps.js'
import { TargetError } from '../target-error.js'

// Automation Anywhere bots through the Control Room API: sign in with a user's API key
// (POST /v1/authentication → a token sent as X-Authorization, valid 20 minutes, renewed before
// then and after a 401); deploy a bot (POST /v3/automations/deploy: its repository file id, run as
// these users or on these device pools, typed botInput) → deploymentId; the run's activity
// (POST /v3/activity/list filtered on the deployment) says how it stands and, once ended, what the
// bot put in its output variables; POST /v3/activity/manage stops it. A deploy has no idempotency
// key: it is named for the launch (automationName "mailrun <launch id>"), so after an unclear answer
// the run is looked for by that name before anything is deployed again.

export const AUTOMATION_PREFIX = 'mailrun '
/** The work item attribute that carries an item's reference (the launch, and the spreadsheet row): how a retry finds what is already in the queue. */
export const REFERENCE_ATTRIBUTE = 'MailrunReference'
/** Work items looked through for references after an unclear add (newest first), and per request. */
const ITEMS_SCANNED = 2_000
const ITEMS_PER_PAGE = 200
const PEER = 'the Control Room'
const ANSWER_CHARS = 1024 * 1024
/** Renewed well inside the token's 20 minutes. */
const TOKEN_MS = 15 * 60_000

export interface AutomationAnywhereConnection {
  id: string
  controlRoomUrl: string
  username: string
  apiKey: string
}

export interface ControlRoomClient {
  /** Deploys the bot for a launch; answers the deploymentId. */
  deploy: (connection: AutomationAnywhereConnection, bot: BotTarget, launchId: string, inputs: Record<string, unknown>) => Promise<string>
  status: (connection: AutomationAnywhereConnection, deploymentId: string) => Promise<RunReport>
  /** The deployment made for this launch, by the automation name it was given. */
  findByLaunch: (connection: AutomationAnywhereConnection, launchId: string) => Promise<string | null>
  stop: (connection: AutomationAnywhereConnection, deploymentId: string) => Promise<void>
  /** Adds work items to a workload management queue, each with its reference in REFERENCE_ATTRIBUTE. */
  addWorkItems: (connection: AutomationAnywhereConnection, queueId: number, items: Array<{ reference: string, content: Record<string, unknown> }>) => Promise<void>
  /** The references of the queue's recent work items that start with `prefix`. */
  workItemReferences: (connection: AutomationAnywhereConnection, queueId: number, prefix: string) => Promise<Set<string>>
  /** Signs in and lists one bot of the public workspace: what a connection test shows. */
  probe: (connection: AutomationAnywhereConnection) => Promise<ProbeStep[]>
  close: () => Promise<void>
}

/** Activity status → how the run stands; anything else is still under way. */
const ENDED: Record<string, RunReport['status']> = { COMPLETED: 'completed', RUN_COMPLETED: 'completed', RUN_FAILED: 'faulted', DEPLOY_FAILED: 'faulted', RUN_TIMED_OUT: 'faulted', RUN_ABORTED: 'stopped' }

interface Activity { id?: unknown, deploymentId?: unknown, status?: unknown, message?: unknown, botOutVariables?: { values?: Record<string, Record<string, unknown>> } }

/** A value as a bot variable: STRING, NUMBER (its digits as text) or BOOLEAN. */
function botValue (value: unknown): Record<string, unknown> {
  if (typeof value === 'number') return { type: 'NUMBER', number: String(value) }
  if (typeof value === 'boolean') return { type: 'BOOLEAN', boolean: value }
  return { type: 'STRING', string: typeof value === 'string' ? value : JSON.stringify(value) }
}

/** An output variable as plain JSON: the member its type names. */
function plainValue (typed: Record<string, unknown>): unknown {
  const type = typeof typed.type === 'string' ? typed.type.toLowerCase() : ''
  const value = typed[type]
  if (type === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return value ?? null
}

/** The Control Room's own words: {"code", "message", "details"}. */
function controlRoomText (text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown, details?: unknown }
    const words = [body.message, body.details].filter((v) => typeof v === 'string' && v.trim() !== '').join(': ')
    if (words !== '') return words.replace(/\s+/g, ' ').trim().slice(0, 300)
  } catch {}
  return text.replace(/\s+/g, ' ').trim().slice(0, 300)
}

export function botInput (launchId: string, inputs: Record<string, ArgumentValue | string>): Record<string, Record<string, unknown>> {
  const typed: Record<string, Record<string, unknown>> = {}
  for (const [name, value] of Object.entries(inputs)) typed[name] = botValue(value)
  typed.MailrunLaunchId = botValue(launchId)
  return typed
}

export function deployBody (bot: BotTarget, launchId: string, inputs: Record<string, unknown>): Record<string, unknown> {
  return {
    fileId: bot.fileId,
    ...(bot.runAsUserIds.length > 0 ? { runAsUserIds: bot.runAsUserIds } : {}),
    ...(bot.poolIds.length > 0 ? { poolIds: bot.poolIds } : {}),
    // One run per launch, whichever of the users or pools takes it.
    numOfRunAsUsersToUse: 1,
    overrideDefaultDevice: false,
    automationName: `${AUTOMATION_PREFIX}${launchId}`,
    botInput: botInput(launchId, inputs as Record<string, ArgumentValue>)
  }
}

export function createControlRoomClient (deps: { deny: OutboundDeny, timeoutMs: number }): ControlRoomClient {
  const dispatcher = outboundDispatcher(deps.deny, { connections: 8, keepAliveTimeout: 10_000 })
  const http = { dispatcher, deny: deps.deny }
  const tokens = new Map<string, { token: string, until: number }>()
  const keyOf = (c: AutomationAnywhereConnection): string => createHash('sha256').update(`${c.id}\0${c.controlRoomUrl}\0${c.username}\0${c.apiKey}`).digest('hex')
  const origin = (c: AutomationAnywhereConnection): string => new URL(c.controlRoomUrl).origin

  async function send (method: 'GET' | 'POST', url: URL, headers: Record<string, string>, body?: unknown): Promise<OutboundAnswer> {
    try {
      return await outboundRequest(http, method, url, {
        headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: deps.timeoutMs,
        peer: PEER,
        maxAnswerChars: ANSWER_CHARS
      })
    } catch (error) {
      if (error instanceof OutboundFailure) throw new TargetError(error.message, { transient: !error.denied, neverSent: error.neverSent })
      throw error
    }
  }

  /** An answer's JSON object; {} when it is not one (a proxy's HTML page, an empty body). */
  const json = (answer: OutboundAnswer): Record<string, unknown> => {
    try { return JSON.parse(answer.text) as Record<string, unknown> } catch { return {} }
  }

  async function signIn (c: AutomationAnywhereConnection): Promise<string> {
    const answer = await send('POST', new URL(`${origin(c)}/v1/authentication`), {}, { username: c.username, apiKey: c.apiKey })
    if (answer.status === 200) {
      const token = json(answer).token
      if (typeof token === 'string' && token !== '') {
        tokens.set(keyOf(c), { token, until: Date.now() + TOKEN_MS })
        return token
      }
    }
    const said = controlRoomText(answer.text)
    const transient = answer.status >= 500 || answer.status === 429
    // Whatever the sign-in answered, no bot was deployed.
    throw new TargetError(`the Control Room refused the sign-in of ${c.username} (${answer.status})${said !== '' ? `: ${said}` : ''}`, { transient, neverSent: true, retryAfterMs: retryAfterMs(answer.headers['retry-after']) })
  }

  async function token (c: AutomationAnywhereConnection): Promise<string> {
    const cached = tokens.get(keyOf(c))
    return cached !== undefined && cached.until > Date.now() ? cached.token : await signIn(c)
  }

  /** An API call; a 401 (the token expired or was revoked) signs in again and sends it once more: the first was refused, so nothing ran. */
  async function call (c: AutomationAnywhereConnection, method: 'GET' | 'POST', path: string, body?: unknown): Promise<OutboundAnswer> {
    const url = new URL(`${origin(c)}${path}`)
    const answer = await send(method, url, { 'x-authorization': await token(c) }, body)
    if (answer.status !== 401) return answer
    tokens.delete(keyOf(c))
    return await send(method, url, { 'x-authorization': await signIn(c) }, body)
  }

  function refused (answer: OutboundAnswer, what: string): TargetError {
    const said = controlRoomText(answer.text)
    const transient = answer.status >= 500 || answer.status === 429 || answer.status === 408
    const words = answer.status === 429
      ? 'the Control Room is throttling requests'
      : answer.status === 403
        ? `the Control Room refused ${what}: the user lacks a permission (${said})`
        : `the Control Room answered ${answer.status} to ${what}${said !== '' ? `: ${said}` : ''}`
    return new TargetError(words, { transient, status: answer.status, retryAfterMs: retryAfterMs(answer.headers['retry-after']) })
  }

  async function activities (c: AutomationAnywhereConnection, field: 'deploymentId' | 'automationName', value: string): Promise<Activity[]> {
    const answer = await call(c, 'POST', '/v3/activity/list', { filter: { operator: 'eq', field, value }, sort: [{ field: 'startDateTime', direction: 'desc' }], page: { offset: 0, length: 20 } })
    if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the activity look-up')
    const list = json(answer).list
    return Array.isArray(list) ? list as Activity[] : []
  }

  return {
    async deploy (c, bot, launchId, inputs) {
      const answer = await call(c, 'POST', '/v3/automations/deploy', deployBody(bot, launchId, inputs))
      if (answer.status === 404) throw new TargetError(`bot ${bot.fileId} was not found in the Control Room's public workspace (or ${c.username} cannot see it)`, { transient: false, status: 404 })
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the deployment')
      const id = json(answer).deploymentId
      if (typeof id !== 'string' || id === '') throw new TargetError('the Control Room answered the deployment without a deploymentId', { transient: true, status: answer.status })
      return id
    },

    async status (c, deploymentId) {
      const found = (await activities(c, 'deploymentId', deploymentId))[0]
      // Deployed but not yet on the activity list: still under way.
      if (found === undefined) return { status: 'running', outputs: null, info: null }
      const status = ENDED[String(found.status)] ?? 'running'
      if (status === 'running') return { status, outputs: null, info: null }
      const values = found.botOutVariables?.values ?? {}
      const outputs = Object.fromEntries(Object.entries(values).map(([name, typed]) => [name, plainValue(typed)]))
      const message = typeof found.message === 'string' && found.message.trim() !== '' ? found.message.trim().slice(0, 2000) : null
      return { status, outputs: Object.keys(outputs).length > 0 ? outputs : null, info: status === 'completed' ? null : message ?? String(found.status) }
    },

    async findByLaunch (c, launchId) {
      const found = (await activities(c, 'automationName', `${AUTOMATION_PREFIX}${launchId}`)).find((a) => typeof a.deploymentId === 'string')
      return found !== undefined ? found.deploymentId as string : null
    },

    async stop (c, deploymentId) {
      const running = (await activities(c, 'deploymentId', deploymentId)).filter((a) => typeof a.id === 'string' && ENDED[String(a.status)] === undefined)
      if (running.length === 0) return
      const answer = await call(c, 'POST', '/v3/activity/manage', { stop_executions: { execution_ids: running.map((a) => a.id) } })
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the stop')
      const errors = json(answer).manage_action_errors
      if (Array.isArray(errors) && errors.length > 0) {
        const first = errors[0] as { error_response?: { message?: unknown } }
        throw new TargetError(`the Control Room did not stop the run: ${String(first.error_response?.message ?? 'no reason given')}`, { transient: false })
      }
    },

    async addWorkItems (c, queueId, items) {
      const answer = await call(c, 'POST', `/v3/wlm/queues/${queueId}/workitems`, { workItems: items.map((item) => ({ json: { ...item.content, [REFERENCE_ATTRIBUTE]: item.reference } })) })
      if (answer.status === 404) throw new TargetError(`work queue ${queueId} was not found in the Control Room (or ${c.username} cannot see it)`, { transient: false, status: 404 })
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the work items')
    },

    async workItemReferences (c, queueId, prefix) {
      const found = new Set<string>()
      for (let offset = 0; offset < ITEMS_SCANNED; offset += ITEMS_PER_PAGE) {
        const answer = await call(c, 'POST', `/v3/wlm/queues/${queueId}/workitems/list`, { sort: [{ field: 'id', direction: 'desc' }], page: { offset, length: ITEMS_PER_PAGE } })
        if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the work item look-up')
        const list = json(answer).list
        const items = Array.isArray(list) ? list as Array<{ json?: Record<string, unknown> }> : []
        for (const item of items) {
          const reference = item.json?.[REFERENCE_ATTRIBUTE]
          if (typeof reference === 'string' && reference.startsWith(prefix)) found.add(reference)
        }
        if (items.length < ITEMS_PER_PAGE) break
      }
      return found
    },

    async probe (c) {
      return await signInAndList({
        signIn: async () => { await signIn(c); return `signed in to ${origin(c)} as ${c.username}` },
        listing: {
          step: 'bots',
          list: async () => await call(c, 'POST', '/v2/repository/workspaces/public/files/list', { filter: { operator: 'eq', field: 'type', value: 'application/vnd.aa.taskbot' }, page: { offset: 0, length: 1 } }),
          ok: 'the public workspace lists its bots to this user',
          refused: (answer) => refused(answer, 'listing bots').message
        }
      })
    },

    async close () {
      await dispatcher.close()
    }
  }
}
