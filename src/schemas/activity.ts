import { Type } from '@sinclair/typebox'
import { ListQuery, Nullable, ProblemSchema, Timestamp, Uuid } from './common.js'

// What arrived and what happened: messages, launches and the replies about them.

export const MessageStatus = Type.Union(['received', 'accepted', 'rejected', 'ignored', 'failed'].map((s) => Type.Literal(s)))
export const Door = Type.Union(['mime', 'mailgun', 'sendgrid', 'imap', 'console', 'smtp', 'graph'].map((s) => Type.Literal(s)), { description: 'How the message came: smtp is the SMTP door; graph is Microsoft Graph push (or its delta sweep); console is a test send from the console or POST /api/v1/test-sends.' })
export const LaunchState = Type.Union(['pending', 'retrying', 'launching', 'launched', 'completed', 'faulted', 'stopped', 'failed'].map((s) => Type.Literal(s)), { description: 'pending: waiting for its first attempt; retrying: an attempt failed and another is scheduled (the word the door answers); launching: an attempt is under way; launched: the job or queue item exists; completed, faulted, stopped: how the job ended; failed: mailrun gave up (lastError says why).' })

export const Reply = Type.Object({
  kind: Type.String({ description: 'launched, finished, failed, rejected, not_allowed, help, status, cancel; or none for a message that gets no answer.' }),
  recipient: Type.String(),
  subject: Type.String(),
  text: Type.String({ description: 'The reply as sent (its plain-text part).' }),
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
  processedAt: '2026-11-23T10:15:00.350Z',
  contentRemovedAt: null,
  contentRemovedBy: null
}

export const Message = Type.Object({
  id: Uuid,
  mailboxId: Uuid,
  door: Door,
  status: MessageStatus,
  reason: Nullable(Type.String()),
  problems: Type.Array(ProblemSchema, { description: 'What was wrong with a rejected command, line by line.' }),
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
  processedAt: Nullable(Timestamp),
  contentRemovedAt: Type.Union([Timestamp, Type.Null()], { description: "When the message's content (and its launch's inputs and outputs, and the replies' texts) was removed; null while it is kept." }),
  contentRemovedBy: Type.Union([Type.Literal('retention'), Type.Literal('erasure'), Type.Null()], { description: "retention: past the tenant's retention period; erasure: its sender was erased (the address is gone too)." })
}, { examples: [messageExample] })

export const MessageDetail = Type.Object({
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
  updatedAt: '2026-11-23T10:17:12.010Z',
  robot: { id: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918', name: 'Monthly Report' },
  sender: { id: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d', email: 'anna.petrova@acme.example', fullName: 'Anna Petrova' }
}

export const Launch = Type.Object({
  id: Uuid,
  messageId: Uuid,
  robotId: Nullable(Uuid),
  senderId: Nullable(Uuid),
  robot: Nullable(Type.Object({ id: Uuid, name: Type.String() }, { description: 'The robot launched (null once it is deleted).' })),
  sender: Nullable(Type.Object({ id: Uuid, email: Type.String(), fullName: Type.String() }, { description: 'Who sent the command (null once the sender is deleted or erased).' })),
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

export const LaunchDetail = Type.Object({
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
    replies: [{ kind: 'launched', recipient: 'anna.petrova@acme.example', subject: 'Re: Monthly Report', text: 'Monthly Report was launched: job 123456.', state: 'sent', attempts: 1, error: null, sentAt: '2026-11-23T10:15:01.000Z', createdAt: '2026-11-23T10:15:00.340Z' }]
  }]
})

const Range = {
  robotId: Type.Optional(Uuid),
  senderId: Type.Optional(Uuid),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only items at or after this time.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only items before this time.' }))
}

export const MessageQuery = Type.Object({ ...ListQuery, ...Range, status: Type.Optional(MessageStatus), door: Type.Optional(Door) }, { additionalProperties: false })
export const LaunchQuery = Type.Object({ ...ListQuery, ...Range, state: Type.Optional(LaunchState) }, { additionalProperties: false })

export const CancelBody = Type.Object({
  kill: Type.Optional(Type.Boolean({ default: false, description: 'true: Kill the job (as "cancel kill" by email) instead of a soft stop.' }))
}, { additionalProperties: false, examples: [{}, { kill: true }] })

export const CancelAnswer = Type.Object({
  outcome: Type.Union([Type.Literal('cancelled'), Type.Literal('stop_requested'), Type.Literal('queue_deleted'), Type.Literal('queue_item'), Type.Literal('stop_failed'), Type.Literal('run_stop_requested'), Type.Literal('run_stop_failed'), Type.Literal('not_found')], {
    description: 'cancelled: it had not started and never will; stop_requested: Orchestrator was asked to stop (or kill) the job — the launch ends stopped when it has; queue_deleted: its waiting queue items were deleted (those a robot took stay); queue_item: its queue item could not be looked at, delete it in Orchestrator; stop_failed: Orchestrator refused to stop the job (reason); run_stop_requested: the platform was asked to stop the run (Power Automate: CancelDesktopFlowRun; Automation Anywhere: /v3/activity/manage stop_executions) — the launch ends stopped when it has; run_stop_failed: the platform refused (reason). A run an HTTP target has taken cannot be stopped: 409.'
  }),
  jobId: Type.Optional(Type.Integer()),
  deleted: Type.Optional(Type.Integer()),
  kept: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  launch: Launch
}, { examples: [{ outcome: 'stop_requested', jobId: 123456, launch: { ...launchExample, state: 'launched', finishedAt: null } }] })

export const RetryAnswer = Type.Object({
  state: Type.String({ description: 'What became of the new attempt by the answer: launched, retrying (the platform has not answered yet), failed.' }),
  reason: Type.Optional(Type.String()),
  launch: Launch
}, { examples: [{ state: 'launched', launch: { ...launchExample, state: 'launched', attempts: 2, finishedAt: null } }] })

export const ReplayAnswer = Type.Object({
  status: Type.String({ description: 'The new decision: accepted (launched, or retrying), rejected (still — see problems and reason), ignored.' }),
  reason: Type.Optional(Type.String()),
  problems: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  launch: Type.Optional(Type.Object({ id: Uuid, state: Type.String(), jobId: Type.Optional(Nullable(Type.Integer())), reason: Type.Optional(Type.String()) })),
  message: MessageDetail
}, { examples: [{ status: 'accepted', launch: { id: '6f5e4d3c-2b1a-4098-8776-5d4c3b2a1908', state: 'launched', jobId: 123457 }, message: { ...messageExample, body: 'period = 2026-10\nBuildReport', launchId: '6f5e4d3c-2b1a-4098-8776-5d4c3b2a1908', replies: [] } }] })
