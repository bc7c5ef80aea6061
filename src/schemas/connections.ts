import { Type } from '@sinclair/typebox'
import { Nullable, SecretMarker, Timestamp, Uuid } from './common.js'

// Where robots are launched: the tenant's UiPath Orchestrator (managed at /api/v1/orchestrator and
// listed here as kind uipath) and signed HTTP targets (n8n, Airflow, an in-house runner).

export const ConnectionKind = Type.Union([Type.Literal('uipath'), Type.Literal('http'), Type.Literal('power_automate'), Type.Literal('automation_anywhere')], {
  description: 'uipath: the tenant\'s Orchestrator connection (change it with PUT /api/v1/orchestrator). http: mailrun POSTs each launch to url, signed per the Standard Webhooks specification, with Idempotency-Key: <launchId>. power_automate: a Power Platform environment whose desktop flows mailrun runs through the Dataverse Web API, signed in as an Entra app (client credentials). automation_anywhere: an Automation 360 Control Room whose bots mailrun deploys through the Control Room API, signed in as a user with an API key.'
})

const Guid = (description: string) => Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description })
const EnvironmentUrl = Type.String({ pattern: '^https?://[^/\\s]+/?$', maxLength: 500, description: 'power_automate: the environment\'s URL, e.g. https://org1a2b3c.crm4.dynamics.com (Power Platform admin center → Environments → Environment URL).' })
const TenantId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9.-]+$', description: 'power_automate: the Entra directory (tenant) id, or a verified domain of the tenant.' })
const ClientSecret = Type.String({ minLength: 1, maxLength: 1000, description: 'power_automate: a client secret of the app registration (its value). Write-only.' })
const Authority = Type.String({ pattern: '^https?://[^/\\s]+/?$', maxLength: 200, description: 'power_automate: the identity platform, default https://login.microsoftonline.com (national clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn).' })

const ControlRoomUrl = Type.String({ pattern: '^https?://[^/\\s]+/?$', maxLength: 500, description: 'automation_anywhere: the Control Room\'s URL, e.g. https://acme.my.automationanywhere.digital.' })
const Username = Type.String({ minLength: 1, maxLength: 200, description: 'automation_anywhere: the Control Room user mailrun signs in as (a user with the API key permission, allowed to run the robots\' bots and see their activity).' })
const ApiKey = Type.String({ minLength: 1, maxLength: 1000, description: 'automation_anywhere: that user\'s API key (My settings → Generate API key). Write-only.' })

const Url = Type.String({ pattern: '^https?://[^/\\s]+(/[^\\s]*)?$', maxLength: 2000, description: 'http: where launches are POSTed. Write-only (a trigger URL may carry a token): only its scheme and host are shown back.' })
const SigningSecret = Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', maxLength: 100, description: 'A Standard Webhooks secret (whsec_ and 24 to 64 base64 bytes) when the receiver already has one; left out, mailrun makes one and answers it once.' })

const connectionExample = {
  id: '5b4a3928-1706-4f5e-9d8c-7b6a59483726',
  name: 'n8n',
  kind: 'http',
  urlHost: 'https://n8n.acme.example',
  secret: { set: true },
  callbackUrl: 'https://mailrun.acme.example/webhooks/http/5b4a3928-1706-4f5e-9d8c-7b6a59483726',
  tenantId: null,
  clientId: null,
  username: null,
  robots: 2,
  createdAt: '2026-12-07T09:00:00.000Z',
  updatedAt: '2026-12-07T09:00:00.000Z'
}

export const Connection = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: ConnectionKind,
  urlHost: Type.String({ description: 'The scheme and host of the URL (the URL itself is never shown).' }),
  secret: Nullable(SecretMarker),
  signingSecret: Type.Optional(Type.String({ description: 'http: the whsec_ signing secret, answered only when mailrun made it (creation, rotateSecret). Give it to the receiver to verify requests and to sign its callbacks.' })),
  callbackUrl: Nullable(Type.String({ description: 'http: where the receiver reports a run\'s end (POST, signed with the same secret); null for the other kinds.' })),
  tenantId: Nullable(Type.String({ description: 'power_automate: the Entra tenant.' })),
  clientId: Nullable(Type.String({ description: 'power_automate: the app registration\'s client id.' })),
  username: Nullable(Type.String({ description: 'automation_anywhere: the Control Room user mailrun signs in as.' })),
  robots: Type.Integer({ description: 'How many robots launch through it.' }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [connectionExample, { ...connectionExample, signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }] })

export const ConnectionCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Union([Type.Literal('http'), Type.Literal('power_automate'), Type.Literal('automation_anywhere')], { description: 'http, power_automate or automation_anywhere (the uipath connection is made with PUT /api/v1/orchestrator).' }),
  url: Type.Optional(Url),
  signingSecret: Type.Optional(SigningSecret),
  environmentUrl: Type.Optional(EnvironmentUrl),
  tenantId: Type.Optional(TenantId),
  clientId: Type.Optional(Guid('power_automate: the application (client) id of the app registration, added to the environment as an application user.')),
  clientSecret: Type.Optional(ClientSecret),
  authority: Type.Optional(Authority),
  controlRoomUrl: Type.Optional(ControlRoomUrl),
  username: Type.Optional(Username),
  apiKey: Type.Optional(ApiKey)
}, {
  additionalProperties: false,
  examples: [
    { name: 'n8n', kind: 'http', url: 'https://n8n.acme.example/webhook/mailrun-launch' },
    { name: 'Finance desktop flows', kind: 'power_automate', environmentUrl: 'https://org1a2b3c.crm4.dynamics.com', tenantId: 'acme.onmicrosoft.com', clientId: '11112222-3333-4444-5555-666677778888', clientSecret: 'the secret value' },
    { name: 'Control Room', kind: 'automation_anywhere', controlRoomUrl: 'https://acme.my.automationanywhere.digital', username: 'mailrun-bot', apiKey: 'the API key' }
  ]
})

export const ConnectionPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  url: Type.Optional(Url),
  rotateSecret: Type.Optional(Type.Boolean({ description: 'http: true makes a new signing secret, answered once; the old one stops working at once.' })),
  environmentUrl: Type.Optional(EnvironmentUrl),
  tenantId: Type.Optional(TenantId),
  clientId: Type.Optional(Guid('power_automate: the application (client) id.')),
  clientSecret: Type.Optional(ClientSecret),
  authority: Type.Optional(Authority),
  controlRoomUrl: Type.Optional(ControlRoomUrl),
  username: Type.Optional(Username),
  apiKey: Type.Optional(ApiKey)
}, { additionalProperties: false, minProperties: 1, examples: [{ rotateSecret: true }, { clientSecret: 'a new secret value' }] })

export const ConnectionTestResult = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(Type.Object({ step: Type.String(), ok: Type.Boolean(), detail: Type.String() }))
}, {
  examples: [{ ok: true, steps: [{ step: 'address', ok: true, detail: 'https://n8n.acme.example may be reached' }, { step: 'reachable', ok: true, detail: 'the target answered 404 to a GET (no run was started)' }] }]
})
