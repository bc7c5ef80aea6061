import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listenLocally, readBody } from './local-http.js'

// A local stand-in for a Power Platform environment as mailrun uses it, following the public
// contracts: the Microsoft identity platform's client-credentials token endpoint
// (/{tenant}/oauth2/v2.0/token, scope {environment}/.default) and the Dataverse Web API v9.2 for
// desktop flows — RunDesktopFlow on a workflow, flowsessions (read one, list a flow's recent ones,
// their inputs and outputs file columns), CancelDesktopFlowRun — with Dataverse's error bodies
// ({"error": {"code", "message"}}) and the documented limit of 70 runs a minute per connection
// (429 with Retry-After). It is a stand-in and says so; never the service.

/** flowsession statuscode values. */
export const FLOW_STATUS = { notStarted: 1, running: 2, waiting: 3, succeeded: 4, skipped: 5, suspended: 6, cancelled: 7, failed: 8, faulted: 9 } as const

export interface FlowSession {
  flowsessionid: string
  flowId: string
  connectionName: string
  statuscode: number
  createdon: string
  startedon: string | null
  completedon: string | null
  errorcode: string | null
  errormessage: string | null
  inputs: string
  outputs: Record<string, unknown> | null
}

export interface DataverseApp { tenant: string, clientId: string, secret: string }

export interface DataverseStandIn {
  url: string
  /** The app registrations the token endpoint knows. */
  apps: DataverseApp[]
  /** Desktop flows (workflow ids, category 6) and the connections (names or connection reference logical names) they may run on. */
  flows: Set<string>
  connections: Set<string>
  sessions: Map<string, FlowSession>
  /** Every API request (not the token endpoint's), as received. */
  requests: Array<{ method: string, path: string, body: string }>
  /** Runs a connection takes a minute (the documented 70). */
  runsPerMinute: number
  /** The next RunDesktopFlow requests: answered with this status and Dataverse error, or (`lost`) the run is made and the connection dropped before any answer. */
  failNextStarts: (answers: Array<{ status: number, code?: string, message?: string } | 'lost'>) => void
  /** Moves a run on, as the machine running it would. */
  finish: (sessionId: string, statuscode: number, result?: { outputs?: Record<string, unknown>, errorcode?: string, errormessage?: string }) => void
  close: () => Promise<void>
}

const API = '/api/data/v9.2'
const MAX_INPUTS = 2 * 1024 * 1024

export async function startDataverseStandIn (options: { port?: number } = {}): Promise<DataverseStandIn> {
  const tokens = new Map<string, number>()
  const startsByConnection = new Map<string, number[]>()
  const scripted: Array<{ status: number, code?: string, message?: string } | 'lost'> = []

  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal', 'odata-version': '4.0', ...headers })
    response.end(JSON.stringify(body))
  }
  const fault = (response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void => { json(response, status, { error: { code, message } }, headers) }

  const standIn: DataverseStandIn = {
    url: '',
    apps: [],
    flows: new Set(),
    connections: new Set(),
    sessions: new Map(),
    requests: [],
    runsPerMinute: 70,
    failNextStarts: (answers) => { scripted.push(...answers) },
    finish: (sessionId, statuscode, result = {}) => {
      const session = standIn.sessions.get(sessionId)
      if (session === undefined) throw new Error(`no flow session ${sessionId}`)
      Object.assign(session, { statuscode, completedon: new Date().toISOString(), outputs: result.outputs ?? null, errorcode: result.errorcode ?? null, errormessage: result.errormessage ?? null })
    },
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) }
  }

  function tokenEndpoint (tenant: string, body: string, response: ServerResponse): void {
    const form = Object.fromEntries(new URLSearchParams(body))
    if (form.grant_type !== 'client_credentials') return json(response, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: The app requested an unsupported grant type.' })
    const app = standIn.apps.find((a) => a.clientId === form.client_id && a.tenant === tenant)
    if (app === undefined) return json(response, 400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${form.client_id ?? ''}' was not found in the directory '${tenant}'.` })
    if (form.client_secret !== app.secret) return json(response, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.' })
    if (form.scope !== `${standIn.url}/.default`) return json(response, 400, { error: 'invalid_scope', error_description: `AADSTS1002012: The provided value for scope ${form.scope ?? ''} is not valid.` })
    const token = randomUUID()
    tokens.set(token, Date.now() + 3599_000)
    json(response, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token })
  }

  function authorized (request: IncomingMessage): boolean {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1]
    const until = token !== undefined ? tokens.get(token) : undefined
    return until !== undefined && until > Date.now()
  }

  function view (s: FlowSession): Record<string, unknown> {
    return { flowsessionid: s.flowsessionid, statuscode: s.statuscode, statecode: s.statuscode >= 4 ? 1 : 0, createdon: s.createdon, startedon: s.startedon, completedon: s.completedon, errorcode: s.errorcode, errormessage: s.errormessage, _regardingobjectid_value: s.flowId }
  }

  function runDesktopFlow (flowId: string, body: string, request: IncomingMessage, response: ServerResponse): void {
    if (!standIn.flows.has(flowId)) return fault(response, 404, '0x80040217', `workflow With Id = ${flowId} Does Not Exist`)
    let run: { runMode?: unknown, connectionName?: unknown, connectionType?: unknown, inputs?: unknown, timeout?: unknown }
    try {
      run = JSON.parse(body) as typeof run
    } catch {
      return fault(response, 400, '0x80048d19', 'Error identified in Payload provided by the user for Entity :\'\', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293')
    }
    if (run.runMode !== 'attended' && run.runMode !== 'unattended') return fault(response, 400, '0x80040203', 'Invalid runMode: expected attended or unattended.')
    if (typeof run.connectionName !== 'string' || !standIn.connections.has(run.connectionName)) return fault(response, 400, '0x80060891', `The connection '${String(run.connectionName)}' was not found or you do not have access to it.`)
    if (run.connectionType !== undefined && run.connectionType !== 1 && run.connectionType !== 2) return fault(response, 400, '0x80040203', 'Invalid connectionType: expected 1 (connection) or 2 (connection reference).')
    if (run.inputs !== undefined && (typeof run.inputs !== 'string' || run.inputs.length > MAX_INPUTS)) return fault(response, 400, '0x80040203', 'The inputs must be a JSON string of at most 2 MB.')
    if (typeof run.inputs === 'string') {
      try { JSON.parse(run.inputs) } catch { return fault(response, 400, '0x80040203', 'The inputs are not valid JSON.') }
    }
    const now = Date.now()
    const recent = (startsByConnection.get(run.connectionName) ?? []).filter((at) => at > now - 60_000)
    if (recent.length >= standIn.runsPerMinute) {
      const retry = Math.max(1, Math.ceil(((recent[0] ?? now) + 60_000 - now) / 1000))
      return fault(response, 429, '0x80072322', `Number of desktop flow runs exceeded the limit of ${standIn.runsPerMinute} per minute for this connection.`, { 'retry-after': String(retry) })
    }
    const next = scripted.shift()
    if (next !== undefined && next !== 'lost') return fault(response, next.status, next.code ?? '0x80040216', next.message ?? 'An unexpected error occurred.')
    recent.push(now)
    startsByConnection.set(run.connectionName, recent)
    const id = randomUUID()
    standIn.sessions.set(id, { flowsessionid: id, flowId, connectionName: run.connectionName, statuscode: FLOW_STATUS.running, createdon: new Date(now).toISOString(), startedon: new Date(now).toISOString(), completedon: null, errorcode: null, errormessage: null, inputs: typeof run.inputs === 'string' ? run.inputs : '{}', outputs: null })
    // The run exists; the answer never comes (a reset after the server acted).
    if (next === 'lost') { request.socket.destroy(); return }
    json(response, 200, { '@odata.context': `${standIn.url}${API}/$metadata#Microsoft.Dynamics.CRM.RunDesktopFlowResponse`, flowsessionId: id })
  }

  /** GET flowsessions?$filter=_regardingobjectid_value eq {id} and createdon ge {time} — the form mailrun sends. */
  function listSessions (query: URLSearchParams, response: ServerResponse): void {
    const filter = query.get('$filter') ?? ''
    const flow = /_regardingobjectid_value eq ([0-9a-f-]{36})/.exec(filter)?.[1]
    const since = /createdon ge (\S+)/.exec(filter)?.[1]
    if (flow === undefined) return fault(response, 400, '0x80060888', 'Could not find a property named \'regardingobjectid\' in the filter: filter by _regardingobjectid_value.')
    const value = [...standIn.sessions.values()].filter((s) => s.flowId === flow && (since === undefined || s.createdon >= since))
      .sort((a, b) => b.createdon.localeCompare(a.createdon)).map(view)
    json(response, 200, { '@odata.context': `${standIn.url}${API}/$metadata#flowsessions`, value })
  }

  const server = createServer((request, response) => {
    readBody(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://stand-in')
      const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname)
      if (request.method === 'POST' && token !== null) return tokenEndpoint(decodeURIComponent(token[1] ?? ''), body, response)
      standIn.requests.push({ method: request.method ?? '', path: `${url.pathname}${url.search}`, body })
      if (!url.pathname.startsWith(`${API}/`)) return fault(response, 404, '0x80060888', `Resource not found for the segment '${url.pathname}'.`)
      if (!authorized(request)) {
        response.writeHead(401, { 'www-authenticate': `Bearer authorization_uri=${standIn.url}/common/oauth2/authorize, resource_id=${standIn.url}/` })
        response.end()
        return
      }
      const path = url.pathname.slice(API.length)
      const start = /^\/workflows\(([0-9a-f-]{36})\)\/Microsoft\.Dynamics\.CRM\.RunDesktopFlow$/.exec(path)
      if (request.method === 'POST' && start !== null) return runDesktopFlow(start[1] ?? '', body, request, response)
      if (request.method === 'GET' && path === '/flowsessions') return listSessions(url.searchParams, response)
      if (request.method === 'GET' && path === '/workflows') return json(response, 200, { '@odata.context': `${standIn.url}${API}/$metadata#workflows(name,workflowid)`, value: [...standIn.flows].map((id) => ({ workflowid: id, name: `Desktop flow ${id.slice(0, 8)}` })) })
      const one = /^\/flowsessions\(([0-9a-f-]{36})\)(\/inputs\/\$value|\/outputs\/\$value|\/Microsoft\.Dynamics\.CRM\.CancelDesktopFlowRun)?$/.exec(path)
      const session = one !== null ? standIn.sessions.get(one[1] ?? '') : undefined
      if (one === null) return fault(response, 404, '0x80060888', `Resource not found for the segment '${path}'.`)
      if (session === undefined) return fault(response, 404, '0x80040217', `flowsession With Id = ${one[1] ?? ''} Does Not Exist`)
      if (request.method === 'GET' && one[2] === undefined) return json(response, 200, view(session))
      if (request.method === 'GET' && one[2] === '/inputs/$value') { response.writeHead(200, { 'content-type': 'application/octet-stream' }); response.end(session.inputs); return }
      if (request.method === 'GET' && one[2] === '/outputs/$value') {
        if (session.outputs === null) return fault(response, 404, '0x80060891', 'No file attachment found for attribute: outputs.')
        response.writeHead(200, { 'content-type': 'application/octet-stream' })
        response.end(JSON.stringify(session.outputs))
        return
      }
      if (request.method === 'POST' && one[2] === '/Microsoft.Dynamics.CRM.CancelDesktopFlowRun') {
        if (session.statuscode === FLOW_STATUS.running || session.statuscode === FLOW_STATUS.waiting || session.statuscode === FLOW_STATUS.notStarted) {
          Object.assign(session, { statuscode: FLOW_STATUS.cancelled, completedon: new Date().toISOString() })
        }
        response.writeHead(204)
        response.end()
        return
      }
      fault(response, 405, '0x80060888', `The HTTP method '${request.method ?? ''}' is not allowed for '${path}'.`)
    }).catch(() => { response.destroy() })
  })
  standIn.url = await listenLocally(server, options.port)
  return standIn
}
