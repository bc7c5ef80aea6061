import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// A local stand-in for UiPath Orchestrator, following the published API contract (OData paths,
// folder header, status codes, error bodies). It is a simulator: it never claims to be UiPath.

export interface SimFolder { Id: number, Key: string, DisplayName: string, FullyQualifiedName: string }

export interface SimulatorOptions {
  organization?: string
  tenant?: string
  clientId?: string
  clientSecret?: string
  username?: string
  password?: string
  tenancyName?: string
  refreshClientId?: string
  userKey?: string
  personalAccessToken?: string
  tokenLifetimeSeconds?: number
  folders?: Array<Pick<SimFolder, 'FullyQualifiedName'>>
}

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: string
}

interface Fault { match: RegExp, status: number, body?: unknown, headers?: Record<string, string>, times: number }

export interface OrchestratorSimulator {
  url: string
  requests: RecordedRequest[]
  folders: SimFolder[]
  /** Answer the next `times` requests whose "METHOD path" matches with this status and body. */
  fail: (match: RegExp, status: number, body?: unknown, headers?: Record<string, string>, times?: number) => void
  /** Make every issued access token invalid, as if they had all expired. */
  expireTokens: () => void
  tokensIssued: () => number
  close: () => Promise<void>
}

function errorBody (message: string, errorCode: number): { message: string, errorCode: number, traceId: string } {
  return { message, errorCode, traceId: randomBytes(16).toString('hex') }
}

function odataFilter (filter: string | null): { field: string, value: string } | null {
  const match = /^\s*(\w+) eq '((?:[^']|'')*)'\s*$/.exec(filter ?? '')
  return match === null ? null : { field: match[1] as string, value: (match[2] as string).replace(/''/g, "'") }
}

export async function startOrchestratorSimulator (options: SimulatorOptions = {}): Promise<OrchestratorSimulator> {
  const o = {
    organization: 'acme',
    tenant: 'DefaultTenant',
    clientId: 'sim-client',
    clientSecret: 'sim-secret',
    username: 'admin',
    password: 'sim-password',
    tenancyName: 'Default',
    refreshClientId: 'sim-legacy-client',
    userKey: 'sim-user-key',
    personalAccessToken: 'sim-pat',
    tokenLifetimeSeconds: 3600,
    ...options
  }
  const folders: SimFolder[] = (options.folders ?? [{ FullyQualifiedName: 'Shared' }, { FullyQualifiedName: 'Finance' }]).map((f, i) => ({
    Id: 100 + i, Key: randomUUID(), DisplayName: f.FullyQualifiedName.split('/').pop() ?? f.FullyQualifiedName, FullyQualifiedName: f.FullyQualifiedName
  }))
  const tokens = new Set<string>()
  let issued = 0
  const requests: RecordedRequest[] = []
  const faults: Fault[] = []

  const issue = (): string => {
    issued++
    const token = `sim-token-${randomBytes(12).toString('hex')}`
    tokens.add(token)
    return token
  }

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, { ...(text !== '' ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers })
    res.end(text)
  }

  const authorized = (req: IncomingMessage): boolean => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    return token !== undefined && (tokens.has(token) || token === o.personalAccessToken)
  }

  const orchestratorPrefix = `/${o.organization}/${o.tenant}/orchestrator_`

  function handleOData (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    if (!authorized(req)) { send(res, 401, errorBody('You are not authenticated!', 0)); return }
    if (req.method === 'GET' && path === '/odata/Folders') {
      const filter = odataFilter(query.get('$filter'))
      const value = filter === null ? folders : folders.filter((f) => String(f[filter.field as keyof SimFolder]) === filter.value)
      const top = Number(query.get('$top') ?? value.length)
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Folders`, value: value.slice(0, top) })
      return
    }
    send(res, 404, errorBody(`No HTTP resource was found that matches the request URI '${path}'.`, 0))
  }

  function handle (req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://simulator')
    const path = url.pathname
    requests.push({ method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body })

    const fault = faults.find((f) => f.times > 0 && f.match.test(`${req.method ?? ''} ${path}`))
    if (fault !== undefined) {
      fault.times--
      send(res, fault.status, fault.body, fault.headers)
      return
    }

    if (req.method === 'POST' && (path === `/${o.organization}/identity_/connect/token` || path === '/identity_/connect/token' || path === '/identity/connect/token')) {
      const form = new URLSearchParams(body)
      if (form.get('grant_type') !== 'client_credentials') { send(res, 400, { error: 'unsupported_grant_type' }); return }
      if (form.get('client_id') !== o.clientId || form.get('client_secret') !== o.clientSecret) { send(res, 400, { error: 'invalid_client' }); return }
      send(res, 200, { access_token: issue(), expires_in: o.tokenLifetimeSeconds, token_type: 'Bearer', scope: form.get('scope') ?? '' })
      return
    }
    if (req.method === 'POST' && path === '/api/Account/Authenticate') {
      const b = JSON.parse(body || '{}') as { tenancyName?: string, usernameOrEmailAddress?: string, password?: string }
      if (b.tenancyName !== o.tenancyName || b.usernameOrEmailAddress !== o.username || b.password !== o.password) {
        send(res, 400, { result: null, targetUrl: null, success: false, error: { code: 0, message: 'Invalid user name or password', details: null }, unAuthorizedRequest: false, __abp: true })
        return
      }
      send(res, 200, { result: issue(), targetUrl: null, success: true, error: null, unAuthorizedRequest: false, __abp: true })
      return
    }
    if (req.method === 'POST' && path === '/oauth/token') {
      const b = JSON.parse(body || '{}') as { grant_type?: string, client_id?: string, refresh_token?: string }
      if (req.headers['x-uipath-tenantname'] !== o.tenant) { send(res, 400, { error: 'invalid_request', error_description: 'X-UIPATH-TenantName is missing or unknown' }); return }
      if (b.grant_type !== 'refresh_token' || b.client_id !== o.refreshClientId || b.refresh_token !== o.userKey) { send(res, 403, { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' }); return }
      send(res, 200, { access_token: issue(), id_token: 'sim-id-token', scope: 'openid profile offline_access', expires_in: 86400, token_type: 'Bearer' })
      return
    }
    if (path.startsWith(`${orchestratorPrefix}/odata/`)) { handleOData(req, res, path.slice(orchestratorPrefix.length), url.searchParams); return }
    if (path.startsWith('/odata/')) { handleOData(req, res, path, url.searchParams); return }
    send(res, 404, errorBody(`No HTTP resource was found that matches the request URI '${path}'.`, 0))
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { handle(req, res, Buffer.concat(chunks).toString('utf8')) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    folders,
    fail (match, status, body, headers, times = 1) { faults.push({ match, status, body, ...(headers !== undefined ? { headers } : {}), times }) },
    expireTokens () { tokens.clear() },
    tokensIssued: () => issued,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}
