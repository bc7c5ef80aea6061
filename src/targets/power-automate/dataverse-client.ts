import { createHash } from 'node:crypto'
import { MailTokenError, requestToken } from '../../mail-auth/token-endpoint.js'
import { microsoftTokenUrl } from '../../mail-auth/obtain-token.js'
import { outboundDispatcher } from '../../net/outbound-dispatcher.js'
import type { OutboundDeny } from '../../net/outbound-guard.js'
import { OutboundFailure, outboundRequest, type OutboundAnswer } from '../../net/outbound-request.js'
import { retryAfterMs } from '../../net/retry-after.js'
import type { RunReport } from '../http/http-target.js'
import { signInAndList, type ProbeStep } from '../probe-steps.js'
import { TargetError } from '../target-error.js'

// Power Automate desktop flows through the Dataverse Web API (v9.2): a token by Entra client
// credentials with scope {environment}/.default; RunDesktopFlow on the flow's workflow record
// (unattended, on a connection or a connection reference, the inputs as one JSON string of at most
// 2 MB) answers a flowsessionId; the flowsession record says how the run stands (statuscode), its
// outputs file column what it returned; CancelDesktopFlowRun stops it. RunDesktopFlow has no
// idempotency key: the launch id travels in the inputs (MailrunLaunchId), so after an unclear
// answer the run is looked for among the flow's recent sessions before anything is started again.

export const LAUNCH_INPUT = 'MailrunLaunchId'
const API = '/api/data/v9.2'
const MAX_INPUTS = 2 * 1024 * 1024
const PEER = 'Power Automate'
/** How long a desktop flow run may wait for a machine and run (RunDesktopFlow's timeout, seconds). */
const RUN_TIMEOUT_S = 7200

export interface PowerAutomateConnection {
  id: string
  environmentUrl: string
  tenantId: string
  clientId: string
  clientSecret: string
  authority: string
}

export interface DesktopFlow { flowId: string, connectionName: string, connectionReference: boolean }

export interface DataverseClient {
  start: (connection: PowerAutomateConnection, flow: DesktopFlow, inputs: Record<string, unknown>) => Promise<string>
  status: (connection: PowerAutomateConnection, sessionId: string) => Promise<RunReport>
  /** The flow's session started for this launch since `since`, by the launch id in its inputs. */
  findByLaunch: (connection: PowerAutomateConnection, flowId: string, launchId: string, since: Date) => Promise<string | null>
  cancel: (connection: PowerAutomateConnection, sessionId: string) => Promise<void>
  /** Signs in and reads one desktop flow: what a connection test shows. */
  probe: (connection: PowerAutomateConnection) => Promise<ProbeStep[]>
  close: () => Promise<void>
}

/** statuscode → how the run stands; outputs are read for a run that ended. */
const ENDED: Record<number, RunReport['status']> = { 4: 'completed', 5: 'stopped', 7: 'stopped', 8: 'faulted', 9: 'faulted' }

/** Dataverse's own words: {"error": {"code", "message"}}. */
function dataverseText (text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: { message?: unknown } }).error
    if (typeof error?.message === 'string') return error.message.trim().slice(0, 300)
  } catch {}
  return text.replace(/\s+/g, ' ').trim().slice(0, 300)
}

export function createDataverseClient (deps: { deny: OutboundDeny, timeoutMs: number }): DataverseClient {
  const dispatcher = outboundDispatcher(deps.deny, { connections: 8, keepAliveTimeout: 10_000 })
  const http = { dispatcher, deny: deps.deny }
  const tokens = new Map<string, { token: string, until: number }>()

  /** A token per connection and credentials, renewed five minutes before it expires. */
  async function token (c: PowerAutomateConnection): Promise<string> {
    const key = createHash('sha256').update(`${c.id}\0${c.environmentUrl}\0${c.tenantId}\0${c.clientId}\0${c.clientSecret}`).digest('hex')
    const cached = tokens.get(key)
    if (cached !== undefined && cached.until > Date.now()) return cached.token
    try {
      const answer = await requestToken({ ...http, timeoutMs: deps.timeoutMs }, microsoftTokenUrl(c), { client_id: c.clientId, client_secret: c.clientSecret, scope: `${new URL(c.environmentUrl).origin}/.default`, grant_type: 'client_credentials' })
      tokens.set(key, { token: answer.access_token, until: Date.now() + Math.max(60, (answer.expires_in ?? 3600) - 300) * 1000 })
      return answer.access_token
    } catch (error) {
      if (error instanceof MailTokenError) throw new TargetError(`Microsoft Entra did not give a token for the Power Automate environment: ${error.message}`, { transient: !error.refused, neverSent: true })
      throw error
    }
  }

  async function call (c: PowerAutomateConnection, method: 'GET' | 'POST', path: string, body?: unknown): Promise<OutboundAnswer> {
    const bearer = await token(c)
    try {
      const answer = await outboundRequest(http, method, new URL(`${new URL(c.environmentUrl).origin}${API}${path}`), {
        headers: { authorization: `Bearer ${bearer}`, accept: 'application/json', 'odata-version': '4.0', 'odata-maxversion': '4.0', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: deps.timeoutMs,
        peer: PEER,
        maxAnswerChars: MAX_INPUTS + 1024
      })
      if (answer.status === 401) tokens.clear()
      return answer
    } catch (error) {
      if (error instanceof OutboundFailure) throw new TargetError(error.message, { transient: !error.denied, neverSent: error.neverSent })
      throw error
    }
  }

  /** A refusal in plain words; 429, 5xx and a 401 (the token may have just expired) may pass. */
  function refused (answer: OutboundAnswer, what: string): TargetError {
    const said = dataverseText(answer.text)
    const transient = answer.status >= 500 || answer.status === 429 || answer.status === 408 || answer.status === 401
    const words = answer.status === 429
      ? 'Power Automate is throttling desktop flow runs on this connection (70 a minute)'
      : answer.status === 403
        ? `Power Automate refused ${what}: the app user lacks a privilege in the environment (${said})`
        : `Power Automate answered ${answer.status} to ${what}${said !== '' ? `: ${said}` : ''}`
    return new TargetError(words, { transient, status: answer.status, retryAfterMs: retryAfterMs(answer.headers['retry-after']) })
  }

  const json = (answer: OutboundAnswer): Record<string, unknown> => {
    try { return JSON.parse(answer.text) as Record<string, unknown> } catch { return {} }
  }

  return {
    async start (c, flow, inputs) {
      const text = JSON.stringify(inputs)
      if (text.length > MAX_INPUTS) throw new TargetError(`the command is too large for Power Automate: its inputs take ${text.length} characters and the limit is ${MAX_INPUTS}`, { transient: false })
      const answer = await call(c, 'POST', `/workflows(${flow.flowId})/Microsoft.Dynamics.CRM.RunDesktopFlow`, {
        runMode: 'unattended', runPriority: 'normal', connectionName: flow.connectionName, connectionType: flow.connectionReference ? 2 : 1, timeout: RUN_TIMEOUT_S, inputs: text
      })
      if (answer.status === 404) throw new TargetError(`desktop flow ${flow.flowId} was not found in the Power Automate environment (or the app user cannot see it)`, { transient: false, status: 404 })
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the run')
      const id = json(answer).flowsessionId
      if (typeof id !== 'string') throw new TargetError('Power Automate answered the run without a flowsessionId', { transient: true, status: answer.status })
      return id
    },

    async status (c, sessionId) {
      const answer = await call(c, 'GET', `/flowsessions(${sessionId})?$select=statuscode,statecode,startedon,completedon,errorcode,errormessage`)
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the status request')
      const session = json(answer)
      const status = ENDED[Number(session.statuscode)] ?? 'running'
      if (status === 'running') return { status, outputs: null, info: null }
      let outputs: Record<string, unknown> | null = null
      const read = await call(c, 'GET', `/flowsessions(${sessionId})/outputs/$value`)
      if (read.status >= 200 && read.status < 300) {
        const value = json(read)
        outputs = Object.keys(value).length > 0 ? value : null
      }
      const error = [session.errorcode, session.errormessage].filter((v) => typeof v === 'string' && v !== '').join(': ')
      return { status, outputs, info: error !== '' ? error.slice(0, 2000) : Number(session.statuscode) === 5 ? 'the run was skipped' : null }
    },

    async findByLaunch (c, flowId, launchId, since) {
      const filter = `_regardingobjectid_value eq ${flowId} and createdon ge ${new Date(since.getTime() - 60_000).toISOString()}`
      const answer = await call(c, 'GET', `/flowsessions?$select=flowsessionid,createdon&$filter=${encodeURIComponent(filter)}&$orderby=createdon%20desc&$top=50`)
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the look-up of recent runs')
      const sessions = (json(answer).value ?? []) as Array<{ flowsessionid?: string }>
      for (const s of sessions) {
        if (typeof s.flowsessionid !== 'string') continue
        const inputs = await call(c, 'GET', `/flowsessions(${s.flowsessionid})/inputs/$value`)
        if (inputs.status >= 200 && inputs.status < 300 && json(inputs)[LAUNCH_INPUT] === launchId) return s.flowsessionid
      }
      return null
    },

    async cancel (c, sessionId) {
      const answer = await call(c, 'POST', `/flowsessions(${sessionId})/Microsoft.Dynamics.CRM.CancelDesktopFlowRun`)
      if (answer.status < 200 || answer.status >= 300) throw refused(answer, 'the cancel')
    },

    async probe (c) {
      return await signInAndList({
        signIn: async () => { await token(c); return `signed in to ${new URL(c.environmentUrl).origin} as app ${c.clientId}` },
        listing: {
          step: 'desktop flows',
          list: async () => await call(c, 'GET', '/workflows?$filter=category%20eq%206&$select=name,workflowid&$top=1'),
          ok: 'the environment lists its desktop flows to this app',
          refused: (answer) => refused(answer, 'listing desktop flows').message
        }
      })
    },

    async close () {
      await dispatcher.close()
    }
  }
}
