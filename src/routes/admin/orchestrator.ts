import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Selectable } from 'kysely'
import type { OrchestratorConnectionsTable } from '../../db/schema.js'
import { errors, fieldError } from '../../errors.js'
import { assertHostAllowed, OutboundDenied } from '../../net/outbound-guard.js'
import { DEFAULT_SCOPES, loadConnection } from '../../orchestrator/connection.js'
import { checkConnection } from '../../orchestrator/connection-test.js'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, marker, Nullable, SecretMarker, Timestamp, Uuid } from '../../schemas/common.js'

const AuthMode = Type.Union(['client_credentials', 'password', 'refresh_token', 'token'].map((m) => Type.Literal(m)), {
  description: 'client_credentials: an external application (clientId, clientSecret, scopes). password: on-premises user (username, password; tenantName is the tenancy). refresh_token: legacy (clientId, userKey). token: a personal access token (accessToken).'
})

const Secret = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: `Write-only. ${description}` }))

const ConnectionPut = Type.Object({
  kind: Type.Union([Type.Literal('cloud'), Type.Literal('onprem')]),
  url: Type.String({ pattern: '^https?://[^/\\s]+(/[^\\s]*)?$', description: 'https://cloud.uipath.com, or the base URL of an on-premises Orchestrator.' }),
  organization: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Cloud: the organization name as in the URL.' }))),
  tenantName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Cloud: the tenant name as in the URL. On-premises password mode: the tenancy name.' }))),
  authMode: AuthMode,
  clientId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  clientSecret: Secret('client_credentials.'),
  scopes: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000, description: `client_credentials scopes, space-separated. Default: ${DEFAULT_SCOPES}` }))),
  username: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  password: Secret('password mode.'),
  userKey: Secret('refresh_token mode: the user key (refresh token).'),
  accessToken: Secret('token mode: a personal access token.'),
  defaultFolder: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500, description: 'Fully qualified folder name used by robots that name none.' }))),
  webhookSecret: Type.Optional(Nullable(Type.String({ minLength: 16, maxLength: 200, description: 'Write-only. The secret of the Orchestrator webhook that reports job outcomes.' })))
}, {
  additionalProperties: false,
  examples: [{
    kind: 'cloud',
    url: 'https://cloud.uipath.com',
    organization: 'acme',
    tenantName: 'DefaultTenant',
    authMode: 'client_credentials',
    clientId: '8d2d7c3e-...',
    clientSecret: 'the-app-secret',
    scopes: DEFAULT_SCOPES,
    defaultFolder: 'Finance',
    webhookSecret: 'a-long-random-webhook-secret'
  }]
})

const connectionExample = {
  id: '2b3c4d5e-6f70-4182-9a3b-4c5d6e7f8091',
  kind: 'cloud',
  url: 'https://cloud.uipath.com',
  organization: 'acme',
  tenantName: 'DefaultTenant',
  authMode: 'client_credentials',
  clientId: '8d2d7c3e-...',
  scopes: DEFAULT_SCOPES,
  username: null,
  clientSecret: { set: true },
  defaultFolder: 'Finance',
  webhookSecret: { set: true },
  webhookUrl: 'https://mailrun.acme.example/webhooks/orchestrator/2b3c4d5e-6f70-4182-9a3b-4c5d6e7f8091',
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z'
}

const Connection = Type.Object({
  id: Uuid,
  kind: Type.Union([Type.Literal('cloud'), Type.Literal('onprem')]),
  url: Type.String(),
  organization: Nullable(Type.String()),
  tenantName: Nullable(Type.String()),
  authMode: AuthMode,
  clientId: Nullable(Type.String()),
  scopes: Nullable(Type.String()),
  username: Nullable(Type.String()),
  clientSecret: Type.Optional(SecretMarker),
  password: Type.Optional(SecretMarker),
  userKey: Type.Optional(SecretMarker),
  accessToken: Type.Optional(SecretMarker),
  defaultFolder: Nullable(Type.String()),
  webhookSecret: SecretMarker,
  webhookUrl: Type.String({ description: 'Register this URL as the Orchestrator webhook (events job.completed, job.faulted, job.stopped).' }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [connectionExample] })

const ConnectionCheck = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(Type.Object({ step: Type.String(), ok: Type.Boolean(), detail: Type.String() }))
}, {
  examples: [{ ok: false, steps: [{ step: 'authenticate', ok: true, detail: 'authenticated with client_credentials' }, { step: 'folder', ok: false, detail: 'folder "Finance" was not found: check defaultFolder (the fully qualified name, e.g. Finance/Reports) and that the credentials can see it' }] }]
})

const secretField = { client_credentials: 'clientSecret', password: 'password', refresh_token: 'userKey', token: 'accessToken' } as const

type Body = Static<typeof ConnectionPut>

/** What each mode needs, named by field, so the admin knows exactly what to add. */
function requireFields (body: Body, keepsSecret: boolean): void {
  const need = (field: keyof Body, why: string): void => {
    const value = body[field]
    if (value === undefined || value === null) throw fieldError(field, `is required ${why}`)
  }
  if (body.kind === 'cloud') {
    need('organization', 'for a cloud connection')
    need('tenantName', 'for a cloud connection')
  }
  const mode = body.authMode as keyof typeof secretField
  if (mode === 'client_credentials' || mode === 'refresh_token') need('clientId', `with authMode ${mode}`)
  if (mode === 'password') {
    need('username', 'with authMode password')
    need('tenantName', 'with authMode password (the tenancy name)')
  }
  if (!keepsSecret) need(secretField[mode], `with authMode ${mode}`)
}

const orchestratorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.db
  const tags = ['orchestrator']
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  function present (row: Selectable<OrchestratorConnectionsTable>): Static<typeof Connection> {
    return {
      id: row.id,
      kind: row.kind,
      url: row.url,
      organization: row.organization,
      tenantName: row.tenant_name,
      authMode: row.auth_mode,
      clientId: row.client_id,
      scopes: row.scopes,
      username: row.username,
      [secretField[row.auth_mode]]: marker(row.secret_enc),
      defaultFolder: row.default_folder,
      webhookSecret: marker(row.webhook_secret_enc),
      webhookUrl: `${app.config.publicUrl}/webhooks/orchestrator/${row.id}`,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    }
  }

  const none = () => new errors.NotFound('no Orchestrator connection yet: create it with PUT /api/v1/orchestrator')

  app.get('/api/v1/orchestrator', {
    schema: { tags, security, summary: "The tenant's Orchestrator connection (secrets write-only)", response: { 200: Connection, ...errorResponses } }
  }, async (request) => {
    const row = await db.selectFrom('orchestrator_connections').selectAll().where('tenant_id', '=', tenantOf(request)).executeTakeFirst()
    if (row === undefined) throw none()
    return present(row)
  })

  app.put('/api/v1/orchestrator', {
    schema: {
      tags,
      security,
      summary: 'Create or replace the Orchestrator connection; a secret left out is kept while authMode stays the same',
      body: ConnectionPut,
      response: { 200: Connection, ...errorResponses }
    }
  }, async (request) => {
    const tenantId = tenantOf(request)
    const body = request.body
    const current = await db.selectFrom('orchestrator_connections').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
    const mode = body.authMode as keyof typeof secretField
    const newSecret = body[secretField[mode]]
    const keepsSecret = newSecret === undefined && current?.auth_mode === mode && current.secret_enc !== null
    requireFields(body, keepsSecret)
    // The pattern admits what WHATWG URL parsing can still refuse (a %09 in the host, an open
    // bracket): refused here as the field it is, not as a fault of ours.
    let url: URL
    try {
      url = new URL(body.url)
    } catch {
      throw fieldError('url', 'is not a valid URL: write it as https://host[:port][/path]')
    }
    try {
      await assertHostAllowed(app.config.outboundDeny, url.hostname)
    } catch (error) {
      if (error instanceof OutboundDenied) throw fieldError('url', `may not point there: ${error.message}`)
      throw error
    }
    const values = {
      kind: body.kind,
      url: body.url.replace(/\/+$/, ''),
      organization: body.organization ?? null,
      tenant_name: body.tenantName ?? null,
      auth_mode: mode,
      client_id: body.clientId ?? null,
      scopes: mode === 'client_credentials' ? (body.scopes ?? DEFAULT_SCOPES) : null,
      username: body.username ?? null,
      secret_enc: newSecret !== undefined ? app.secrets.seal(newSecret) : (current?.secret_enc ?? null),
      default_folder: body.defaultFolder ?? null,
      webhook_secret_enc: body.webhookSecret === undefined ? (current?.webhook_secret_enc ?? null) : (body.webhookSecret === null ? null : app.secrets.seal(body.webhookSecret)),
      // Another server may not know job references: detect again.
      supports_job_reference: current !== undefined && current.url === body.url.replace(/\/+$/, '') ? current.supports_job_reference : null,
      updated_at: new Date()
    }
    const row = await db.insertInto('orchestrator_connections').values({ tenant_id: tenantId, ...values })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values)).returningAll().executeTakeFirstOrThrow()
    if (current !== undefined && (current.default_folder !== row.default_folder || current.url !== row.url || current.organization !== row.organization || current.tenant_name !== row.tenant_name)) {
      // Cached folder ids and release keys belong to the old server or folder.
      await db.updateTable('robots').set({ cached_folder_id: null, cached_release_key: null }).where('tenant_id', '=', tenantId).execute()
    }
    return present(row)
  })

  app.post('/api/v1/orchestrator/test', {
    schema: {
      tags,
      security,
      summary: 'Try the connection: authenticate, then find the default folder; answers what worked or exactly what failed',
      response: { 200: ConnectionCheck, ...errorResponses }
    }
  }, async (request) => {
    const connection = await loadConnection(db, app.secrets, tenantOf(request))
    if (connection === null) throw none()
    return await checkConnection(app.orchestrator.clientFor(connection))
  })
}

export default orchestratorRoutes
