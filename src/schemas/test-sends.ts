import { Type } from '@sinclair/typebox'
import { Nullable, ProblemSchema, Uuid } from './common.js'

// A command run on purpose, as one of the tenant's senders, without an email: to try a robot.

export const TestSendCreate = Type.Object({
  robotId: Uuid,
  senderId: Uuid,
  mailboxId: Type.Optional(Uuid),
  text: Type.String({ maxLength: 100_000, description: 'The body of the email: arguments and functions, one per line, as a sender writes them.' }),
  dryRun: Type.Optional(Type.Boolean({ default: true, description: 'true (default): check, and show the request that would be sent, without launching. false: launch, marked as a test in the history.' }))
}, { additionalProperties: false, examples: [{ robotId: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918', senderId: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d', text: 'period = 2026-10\nBuildReport', dryRun: true }] })

export const TestSendResult = Type.Object({
  outcome: Type.Union(['valid', 'rejected', 'launched', 'retrying', 'failed'].map((s) => Type.Literal(s)), { description: 'valid: a dry run that would launch. rejected: the problems say why. launched, retrying, failed: what the real run did.' }),
  problems: Type.Array(ProblemSchema),
  request: Nullable(Type.Object({
    method: Type.Literal('POST'),
    path: Type.String({ description: 'The Orchestrator endpoint (the Dataverse one for Power Automate; the target\'s host for an HTTP target).' }),
    folder: Nullable(Type.String({ description: 'The folder, sent as X-UIPATH-OrganizationUnitId (its id); null on other platforms.' })),
    body: Type.Record(Type.String(), Type.Unknown(), { description: 'The JSON body, as sent (Reference is the launch id).' })
  }, { description: 'The StartJobs or AddQueueItem request a launch sends (RunDesktopFlow, or the HTTP target\'s POST before signing, for robots on other platforms).' })),
  messageId: Nullable(Uuid),
  launch: Nullable(Type.Object({ id: Uuid, state: Type.String(), jobId: Type.Optional(Nullable(Type.Integer())), reason: Type.Optional(Type.String()) }))
}, {
  examples: [{
    outcome: 'valid',
    problems: [],
    request: { method: 'POST', path: '/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs', folder: 'Finance', body: { startInfo: { ReleaseKey: '8b5e…', Strategy: 'ModernJobsCount', JobsCount: 1, InputArguments: '{"period":"2026-10","in_Functions":"[{\\"name\\":\\"BuildReport\\",\\"args\\":{}}]"}', Reference: '(the launch id)' } } },
    messageId: null,
    launch: null
  }]
})
