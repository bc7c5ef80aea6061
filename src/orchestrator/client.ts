import type { Dispatcher } from 'undici'
import type { OrchestratorConnection } from './connection.js'
import { odataString, orchestratorBase } from './endpoints.js'
import { OrchestratorError } from './errors.js'
import { call, type HttpAnswer, type HttpDeps } from './http.js'
import type { TokenProvider } from './token-provider.js'

export interface Folder { Id: number, FullyQualifiedName: string, DisplayName?: string, Key?: string }

export interface ODataOptions {
  folderId?: number
  body?: unknown
  context?: { folder?: string, process?: string }
  /** This request's own time limit, instead of the connection's. */
  timeoutMs?: number
}

export interface OrchestratorClient {
  connection: OrchestratorConnection
  /** Obtains (or reuses) an access token; fails with what the identity server said. */
  authenticate: () => Promise<void>
  /** An OData request; `folderId` becomes the one X-UIPATH-OrganizationUnitId header. */
  odata: <T>(method: Dispatcher.HttpMethod, path: string, options?: ODataOptions) => Promise<HttpAnswer<T>>
  findFolder: (fullyQualifiedName: string) => Promise<Folder | null>
  /** The current access token, for a request Orchestrator says needs it (a bucket's own upload URI). */
  token: () => Promise<string>
  /** The connection's HTTP settings (dispatcher, deny list, time limit), for requests outside OData. */
  http: HttpDeps
}

export function createOrchestratorClient (connection: OrchestratorConnection, http: HttpDeps, tokens: TokenProvider): OrchestratorClient {
  const base = orchestratorBase(connection)

  async function odata<T> (method: Dispatcher.HttpMethod, path: string, options: ODataOptions = {}): Promise<HttpAnswer<T>> {
    const send = async (token: string): Promise<HttpAnswer<T>> => await call<T>(http, method, `${base}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.folderId !== undefined ? { 'x-uipath-organizationunitid': String(options.folderId) } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {})
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {})
    })
    const token = await tokens.get()
    try {
      return await send(token)
    } catch (error) {
      // A token can expire or be revoked before its announced lifetime: authenticate again, once.
      if (!(error instanceof OrchestratorError) || error.status !== 401 || connection.authMode === 'token') throw error
      tokens.invalidate(token)
      return await send(await tokens.get())
    }
  }

  return {
    connection,
    authenticate: async () => { await tokens.get() },
    token: async () => await tokens.get(),
    http,
    odata,
    async findFolder (fullyQualifiedName) {
      const filter = encodeURIComponent(`FullyQualifiedName eq ${odataString(fullyQualifiedName)}`)
      const { body } = await odata<{ value: Folder[] }>('GET', `/odata/Folders?$filter=${filter}&$top=2`, { context: { folder: fullyQualifiedName } })
      return body.value[0] ?? null
    }
  }
}
