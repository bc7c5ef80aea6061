import { Type } from '@sinclair/typebox'
import { Nullable, SecretMarker, Timestamp, Uuid } from './common.js'

// Where robots are launched: the tenant's UiPath Orchestrator (managed at /api/v1/orchestrator and
// listed here as kind uipath) and signed HTTP targets (n8n, Airflow, an in-house runner).

export const ConnectionKind = Type.Union([Type.Literal('uipath'), Type.Literal('http')], {
  description: 'uipath: the tenant\'s Orchestrator connection (change it with PUT /api/v1/orchestrator). http: mailrun POSTs each launch to url, signed per the Standard Webhooks specification, with Idempotency-Key: <launchId>.'
})

const Url = Type.String({ pattern: '^https?://[^/\\s]+(/[^\\s]*)?$', maxLength: 2000, description: 'Write-only (a trigger URL may carry a token): only its scheme and host are shown back.' })
const SigningSecret = Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', maxLength: 100, description: 'A Standard Webhooks secret (whsec_ and 24 to 64 base64 bytes) when the receiver already has one; left out, mailrun makes one and answers it once.' })

const connectionExample = {
  id: '5b4a3928-1706-4f5e-9d8c-7b6a59483726',
  name: 'n8n',
  kind: 'http',
  urlHost: 'https://n8n.acme.example',
  secret: { set: true },
  callbackUrl: 'https://mailrun.acme.example/webhooks/http/5b4a3928-1706-4f5e-9d8c-7b6a59483726',
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
  callbackUrl: Nullable(Type.String({ description: 'http: where the receiver reports a run\'s end (POST, signed with the same secret); null for uipath.' })),
  robots: Type.Integer({ description: 'How many robots launch through it.' }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [connectionExample, { ...connectionExample, signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }] })

export const ConnectionCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Literal('http', { description: 'http (the uipath connection is made with PUT /api/v1/orchestrator).' }),
  url: Url,
  signingSecret: Type.Optional(SigningSecret)
}, {
  additionalProperties: false,
  examples: [{ name: 'n8n', kind: 'http', url: 'https://n8n.acme.example/webhook/mailrun-launch' }]
})

export const ConnectionPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  url: Type.Optional(Url),
  rotateSecret: Type.Optional(Type.Boolean({ description: 'true: a new signing secret, answered once; the old one stops working at once.' }))
}, { additionalProperties: false, examples: [{ rotateSecret: true }] })

export const ConnectionTestResult = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(Type.Object({ step: Type.String(), ok: Type.Boolean(), detail: Type.String() }))
}, {
  examples: [{ ok: true, steps: [{ step: 'address', ok: true, detail: 'https://n8n.acme.example may be reached' }, { step: 'reachable', ok: true, detail: 'the target answered 404 to a GET (no run was started)' }] }]
})
