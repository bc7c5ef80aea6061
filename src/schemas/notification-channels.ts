import { Type } from '@sinclair/typebox'
import { TEAM_EVENTS } from '../alerts/team-events.js'
import { Nullable, SecretMarker, Timestamp, Uuid } from './common.js'

// Where a tenant's team is told what happened: a channel per destination and the events it wants.

export const ChannelKind = Type.Union([Type.Literal('webhook'), Type.Literal('slack'), Type.Literal('teams'), Type.Literal('google_chat'), Type.Literal('chatwork'), Type.Literal('email')], {
  description: 'webhook: signed per the Standard Webhooks specification (url; a whsec_ secret is made for you). slack, teams, google_chat: the incoming webhook URL the app gave you. chatwork: roomId and token. email: recipients, or the tenant\'s admins when none.'
})

const Events = Type.Array(Type.Union(TEAM_EVENTS.map((e) => Type.Literal(e))), { maxItems: TEAM_EVENTS.length, uniqueItems: true, description: 'The events this channel is told of (may be empty for a channel that only gets a digest).' })
const Digest = Nullable(Type.Union([Type.Literal('daily'), Type.Literal('weekly')], { description: 'A summary at 08:00 in the tenant\'s time zone: daily (the day before) or weekly (Mondays, the week before); null: none.' }))
const Url = Type.String({ pattern: '^https?://[^/\\s]+(/[^\\s]*)?$', maxLength: 2000, description: 'Write-only for slack, teams and google_chat (their URLs carry a token): only its host is shown back.' })
const Recipients = Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 20, uniqueItems: true, description: 'email: who is written to; empty: the tenant\'s admin users.' })
const RoomId = Type.String({ pattern: '^[0-9]{1,20}$', description: 'chatwork: the room\'s number (as in #!rid123456).' })
const Token = Type.String({ minLength: 1, maxLength: 200, description: 'Write-only. chatwork: the API token of the account that posts.' })

export const ChannelCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  kind: ChannelKind,
  events: Events,
  digest: Type.Optional(Digest),
  url: Type.Optional(Url),
  roomId: Type.Optional(RoomId),
  token: Type.Optional(Token),
  recipients: Type.Optional(Recipients)
}, {
  additionalProperties: false,
  examples: [{ name: 'RPA team on Slack', kind: 'slack', events: ['job.faulted', 'job.stopped', 'launch.failed'], url: 'https://hooks.slack.com/services/T000/B000/XXXX' }]
})

export const ChannelPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  events: Type.Optional(Events),
  digest: Type.Optional(Digest),
  url: Type.Optional(Url),
  roomId: Type.Optional(RoomId),
  token: Type.Optional(Token),
  recipients: Type.Optional(Recipients),
  rotateSecret: Type.Optional(Type.Boolean({ description: 'webhook: make a new signing secret, answered once as signingSecret; the old one stops at once.' }))
}, { additionalProperties: false, examples: [{ events: ['job.faulted', 'launch.failed'] }] })

const channelExample = {
  id: '6a1f0c2e-8b4d-4e6f-9a0b-1c2d3e4f5a6b',
  name: 'Ticket system',
  kind: 'webhook',
  events: ['job.faulted', 'job.stopped'],
  urlHost: 'https://tickets.acme.example',
  roomId: null,
  token: { set: false },
  secret: { set: true },
  recipients: [],
  digest: null,
  failingSince: null,
  lastError: null,
  createdAt: '2026-12-07T09:00:00.000Z',
  updatedAt: '2026-12-07T09:00:00.000Z'
}

export const Channel = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: ChannelKind,
  events: Type.Array(Type.String()),
  urlHost: Nullable(Type.String({ description: 'The scheme and host of the URL; the URL itself is never shown back.' })),
  roomId: Nullable(Type.String()),
  token: SecretMarker,
  secret: SecretMarker,
  recipients: Type.Array(Type.String()),
  digest: Digest,
  failingSince: Nullable(Timestamp),
  lastError: Nullable(Type.String({ description: 'What the last failed attempt answered.' })),
  signingSecret: Type.Optional(Type.String({ description: 'webhook: the whsec_ signing secret, answered only when it is made (creation, rotateSecret).' })),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [channelExample, { ...channelExample, signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }] })

const deliveryExample = {
  id: '0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d',
  webhookId: 'msg_0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d',
  event: 'job.faulted',
  state: 'sent',
  attempts: 1,
  lastStatus: 200,
  lastAnswer: '200 ok',
  createdAt: '2026-12-07T09:05:00.000Z',
  sentAt: '2026-12-07T09:05:01.000Z',
  nextAttemptAt: null
}

export const Delivery = Type.Object({
  id: Uuid,
  webhookId: Type.String({ description: 'The webhook-id header: the same on every attempt.' }),
  event: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  lastStatus: Nullable(Type.Integer()),
  lastAnswer: Nullable(Type.String()),
  createdAt: Timestamp,
  sentAt: Nullable(Timestamp),
  nextAttemptAt: Nullable(Timestamp)
}, { examples: [deliveryExample] })

export const ChannelTestResult = Type.Object({
  ok: Type.Boolean({ description: 'Whether the channel took the test message.' }),
  delivery: Delivery
}, { examples: [{ ok: true, delivery: { ...deliveryExample, event: 'test' } }] })
