import { Type } from '@sinclair/typebox'
import { DEFAULT_SCOPES } from '../orchestrator/connection.js'
import { Nullable, SecretMarker, Timestamp, Uuid } from './common.js'

// A tenant's Orchestrator connection: where robots are started, and how mailrun signs in.

export const AuthMode = Type.Union(['client_credentials', 'password', 'refresh_token', 'token'].map((m) => Type.Literal(m)), {
  description: 'client_credentials: an external application (clientId, clientSecret, scopes). password: on-premises user (username, password; tenantName is the tenancy). refresh_token: legacy (clientId, userKey). token: a personal access token (accessToken).'
})

const Secret = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: `Write-only. ${description}` }))

export const ConnectionPut = Type.Object({
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

export const Connection = Type.Object({
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

export const ConnectionCheck = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(Type.Object({ step: Type.String(), ok: Type.Boolean(), detail: Type.String() }))
}, {
  examples: [{ ok: false, steps: [{ step: 'authenticate', ok: true, detail: 'authenticated with client_credentials' }, { step: 'folder', ok: false, detail: 'folder "Finance" was not found: check defaultFolder (the fully qualified name, e.g. Finance/Reports) and that the credentials can see it' }] }]
})
