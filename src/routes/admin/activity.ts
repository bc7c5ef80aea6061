import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Selectable } from 'kysely'
import { newestFirst } from '../../db/pagination.js'
import type { LaunchesTable, MessagesTable, NotificationsTable } from '../../db/schema.js'
import { errors } from '../../errors.js'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses, IdParams, ListQuery, Nullable, Page, Timestamp, Uuid } from '../../schemas/common.js'

// What arrived and what happened: read-only views for tenant admins and operators.

const MessageStatus = Type.Union(['received', 'accepted', 'rejected', 'ignored', 'failed'].map((s) => Type.Literal(s)))
const Door = Type.Union(['mime', 'mailgun', 'sendgrid', 'imap'].map((s) => Type.Literal(s)))
const LaunchState = Type.Union(['pending', 'launching', 'launched', 'completed', 'faulted', 'stopped', 'failed'].map((s) => Type.Literal(s)))

const Reply = Type.Object({
  kind: Type.String({ description: 'launched, finished, failed, rejected, not_allowed, help; or none for a message that gets no answer.' }),
  recipient: Type.String(),
  state: Type.Union(['pending', 'sent', 'failed', 'suppressed'].map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  error: Nullable(Type.String({ description: 'The last SMTP error, or why no reply is sent ("not replied: …").' })),
  sentAt: Nullable(Timestamp),
  createdAt: Timestamp
})

const messageExample = {
  id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  mailboxId: '9f5b3c1a-7d2e-4b8f-a6c4-1e2d3f4a5b6c',
  door: 'mailgun',
  status: 'accepted',
  reason: null,
  fromAddress: 'anna.petrova@acme.example',
  senderId: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d',
  robotId: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
  messageIdHeader: '<CAF=abc@mail.acme.example>',
  subject: 'Monthly Report',
  authVerdict: { policy: 'dmarc', dmarc: 'pass' },
  sizeBytes: 2048,
  imapFolder: null,
  detectionLatencyMs: null,
  receivedAt: '2026-11-23T10:15:00.000Z',
  processedAt: '2026-11-23T10:15:00.350Z'
}

const Message = Type.Object({
  id: Uuid,
  mailboxId: Uuid,
  door: Door,
  status: MessageStatus,
  reason: Nullable(Type.String()),
  problems: Type.Array(Type.Object({ line: Type.Optional(Type.Integer()), text: Type.Optional(Type.String()), message: Type.String() }), { description: 'What was wrong with a rejected command, line by line.' }),
  fromAddress: Nullable(Type.String()),
  senderId: Nullable(Uuid),
  robotId: Nullable(Uuid),
  messageIdHeader: Nullable(Type.String()),
  subject: Nullable(Type.String({ description: 'Kept only for accepted messages.' })),
  authVerdict: Nullable(Type.Record(Type.String(), Type.Unknown())),
  sizeBytes: Type.Integer(),
  imapFolder: Nullable(Type.String()),
  detectionLatencyMs: Nullable(Type.Integer({ description: 'IMAP only: from the server receiving it to mailrun storing it.' })),
  receivedAt: Timestamp,
  processedAt: Nullable(Timestamp)
}, { examples: [messageExample] })

const MessageDetail = Type.Object({
  ...Message.properties,
  body: Nullable(Type.String({ description: 'The text read from the message; kept only for accepted messages.' })),
  launchId: Nullable(Uuid),
  replies: Type.Array(Reply, { description: 'Answers to the sender about this message (before any launch).' })
}, { examples: [{ ...messageExample, body: 'period = 2026-10\nBuildReport', launchId: '6f5e4d3c-2b1a-4098-8776-5d4c3b2a1908', replies: [] }] })

const launchExample = {
  id: '6f5e4d3c-2b1a-4098-8776-5d4c3b2a1908',
  messageId: messageExample.id,
  robotId: messageExample.robotId,
  senderId: messageExample.senderId,
  state: 'completed',
  attempts: 1,
  jobId: 123456,
  jobKey: 'c3b2a190-8f7e-4d6c-b5a4-93827160f5e4',
  lastError: null,
  errorCode: null,
  traceId: null,
  createdAt: '2026-11-23T10:15:00.100Z',
  launchedAt: '2026-11-23T10:15:00.340Z',
  finishedAt: '2026-11-23T10:17:12.000Z',
  updatedAt: '2026-11-23T10:17:12.010Z'
}

const Launch = Type.Object({
  id: Uuid,
  messageId: Uuid,
  robotId: Nullable(Uuid),
  senderId: Nullable(Uuid),
  state: LaunchState,
  attempts: Type.Integer(),
  jobId: Nullable(Type.Integer()),
  jobKey: Nullable(Type.String()),
  lastError: Nullable(Type.String()),
  errorCode: Nullable(Type.String({ description: 'Orchestrator errorCode of the last failure.' })),
  traceId: Nullable(Type.String({ description: 'Orchestrator traceId of the last failure.' })),
  createdAt: Timestamp,
  launchedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  updatedAt: Timestamp
}, { examples: [launchExample] })

const LaunchDetail = Type.Object({
  ...Launch.properties,
  plan: Type.Record(Type.String(), Type.Unknown(), { description: 'The validated launch plan: arguments and functions in order.' }),
  inputArguments: Nullable(Type.Record(Type.String(), Type.Unknown())),
  outputArguments: Nullable(Type.Record(Type.String(), Type.Unknown())),
  jobInfo: Nullable(Type.String({ description: "Orchestrator's Info text (the failure reason of a faulted job)." })),
  nextAttemptAt: Nullable(Timestamp),
  history: Type.Array(Type.Object({ at: Timestamp, state: Type.String(), detail: Nullable(Type.String()) })),
  replies: Type.Array(Reply, { description: 'Replies about this launch: launched, failed, finished.' })
}, {
  examples: [{
    ...launchExample,
    plan: { arguments: { period: '2026-10' }, functions: [{ name: 'BuildReport', args: {} }] },
    inputArguments: { period: '2026-10', in_Functions: '[{"name":"BuildReport","args":{}}]' },
    outputArguments: { out_ReportUrl: 'https://files.acme.example/r/2026-10.xlsx' },
    jobInfo: 'Job completed',
    nextAttemptAt: null,
    history: [{ at: '2026-11-23T10:15:00.100Z', state: 'pending', detail: null }, { at: '2026-11-23T10:15:00.340Z', state: 'launched', detail: 'job 123456' }],
    replies: [{ kind: 'launched', recipient: 'anna.petrova@acme.example', state: 'sent', attempts: 1, error: null, sentAt: '2026-11-23T10:15:01.000Z', createdAt: '2026-11-23T10:15:00.340Z' }]
  }]
})

const Range = {
  robotId: Type.Optional(Uuid),
  senderId: Type.Optional(Uuid),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only items at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only items before this time.' }))
}

const MessageQuery = Type.Object({ ...ListQuery, ...Range, status: Type.Optional(MessageStatus), door: Type.Optional(Door) }, { additionalProperties: false })
const LaunchQuery = Type.Object({ ...ListQuery, ...Range, state: Type.Optional(LaunchState) }, { additionalProperties: false })

const iso = (d: Date | null): string | null => d?.toISOString() ?? null

function presentReply (row: Selectable<NotificationsTable>): Static<typeof Reply> {
  return { kind: row.kind, recipient: row.recipient, state: row.state, attempts: row.attempts, error: row.last_error, sentAt: iso(row.sent_at), createdAt: row.created_at.toISOString() }
}

function presentMessage (row: Selectable<MessagesTable>): Static<typeof Message> {
  return {
    id: row.id,
    mailboxId: row.mailbox_id,
    door: row.door,
    status: row.status,
    reason: row.reason,
    problems: row.problems,
    fromAddress: row.from_address,
    senderId: row.sender_id,
    robotId: row.robot_id,
    messageIdHeader: row.message_id_header,
    subject: row.subject,
    authVerdict: row.auth_verdict,
    sizeBytes: row.size_bytes,
    imapFolder: row.imap_folder,
    detectionLatencyMs: row.detection_latency_ms,
    receivedAt: row.received_at.toISOString(),
    processedAt: iso(row.processed_at)
  }
}

function presentLaunch (row: Selectable<LaunchesTable>): Static<typeof Launch> {
  return {
    id: row.id,
    messageId: row.message_id,
    robotId: row.robot_id,
    senderId: row.sender_id,
    state: row.state,
    attempts: row.attempts,
    jobId: row.job_id,
    jobKey: row.job_key,
    lastError: row.last_error,
    errorCode: row.error_code,
    traceId: row.trace_id,
    createdAt: row.created_at.toISOString(),
    launchedAt: iso(row.launched_at),
    finishedAt: iso(row.finished_at),
    updatedAt: row.updated_at.toISOString()
  }
}

const messageColumns = [
  'id', 'tenant_id', 'mailbox_id', 'door', 'dedupe_key', 'message_id_header', 'from_address', 'sender_id', 'robot_id', 'subject', 'body',
  'raw_sha256', 'size_bytes', 'auth_verdict', 'status', 'reason', 'problems', 'imap_folder', 'internal_date', 'detection_latency_ms', 'received_at', 'processed_at'
] as const

const activityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.db
  const security = [{ bearer: [] }]

  app.addHook('onRequest', app.requireTenant)

  app.get('/api/v1/messages', {
    schema: { tags: ['activity'], security, summary: 'Messages that arrived, newest first', querystring: MessageQuery, response: { 200: Page(Message), ...errorResponses } }
  }, async (request) => {
    const q = request.query
    let query = db.selectFrom('messages').select(messageColumns).where('tenant_id', '=', tenantOf(request))
    if (q.status !== undefined) query = query.where('status', '=', q.status as Selectable<MessagesTable>['status'])
    if (q.door !== undefined) query = query.where('door', '=', q.door as Selectable<MessagesTable>['door'])
    if (q.robotId !== undefined) query = query.where('robot_id', '=', q.robotId)
    if (q.senderId !== undefined) query = query.where('sender_id', '=', q.senderId)
    if (q.since !== undefined) query = query.where('received_at', '>=', new Date(q.since))
    if (q.until !== undefined) query = query.where('received_at', '<', new Date(q.until))
    const { items, nextCursor } = await newestFirst(query, 'messages', 'received_at', q, { box: app.secrets, tenantId: tenantOf(request) })
    return { items: (items as Array<Selectable<MessagesTable>>).map(presentMessage), nextCursor }
  })

  app.get('/api/v1/messages/:id', {
    schema: { tags: ['activity'], security, summary: 'One message, with the launch it led to', params: IdParams, response: { 200: MessageDetail, ...errorResponses } }
  }, async (request) => {
    const row = await db.selectFrom('messages').select(messageColumns).where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (row === undefined) throw new errors.NotFound(`no message ${request.params.id}`)
    const launch = await db.selectFrom('launches').select('id').where('message_id', '=', row.id).executeTakeFirst()
    const replies = await db.selectFrom('notifications').selectAll().where('message_id', '=', row.id).where('launch_id', 'is', null).orderBy('created_at').execute()
    return { ...presentMessage(row as Selectable<MessagesTable>), body: row.body, launchId: launch?.id ?? null, replies: replies.map(presentReply) }
  })

  app.get('/api/v1/launches', {
    schema: { tags: ['activity'], security, summary: 'Launch attempts, newest first', querystring: LaunchQuery, response: { 200: Page(Launch), ...errorResponses } }
  }, async (request) => {
    const q = request.query
    let query = db.selectFrom('launches').selectAll().where('tenant_id', '=', tenantOf(request))
    if (q.state !== undefined) query = query.where('state', '=', q.state as Selectable<LaunchesTable>['state'])
    if (q.robotId !== undefined) query = query.where('robot_id', '=', q.robotId)
    if (q.senderId !== undefined) query = query.where('sender_id', '=', q.senderId)
    if (q.since !== undefined) query = query.where('created_at', '>=', new Date(q.since))
    if (q.until !== undefined) query = query.where('created_at', '<', new Date(q.until))
    const { items, nextCursor } = await newestFirst(query, 'launches', 'created_at', q, { box: app.secrets, tenantId: tenantOf(request) })
    return { items: items.map(presentLaunch), nextCursor }
  })

  app.get('/api/v1/launches/:id', {
    schema: { tags: ['activity'], security, summary: 'One launch with its state history, attempts and errors', params: IdParams, response: { 200: LaunchDetail, ...errorResponses } }
  }, async (request) => {
    const row = await db.selectFrom('launches').selectAll().where('tenant_id', '=', tenantOf(request)).where('id', '=', request.params.id).executeTakeFirst()
    if (row === undefined) throw new errors.NotFound(`no launch ${request.params.id}`)
    const events = await db.selectFrom('launch_events').select(['at', 'state', 'detail']).where('launch_id', '=', row.id).orderBy('id').execute()
    const replies = await db.selectFrom('notifications').selectAll().where('launch_id', '=', row.id).orderBy('created_at').execute()
    return {
      ...presentLaunch(row),
      plan: row.plan,
      inputArguments: row.input_arguments,
      outputArguments: row.output_arguments,
      jobInfo: row.job_info,
      nextAttemptAt: iso(row.next_attempt_at),
      history: events.map((e) => ({ at: e.at.toISOString(), state: e.state, detail: e.detail })),
      replies: replies.map(presentReply)
    }
  })
}

export default activityRoutes
