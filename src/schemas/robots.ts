import { Type } from '@sinclair/typebox'
import { Nullable, Timestamp, Uuid, Word } from './common.js'

// Robots: what senders name in the subject, what they may pass, and who may launch them.

export const ParameterType = Type.Union(['string', 'number', 'boolean', 'date'].map((t) => Type.Literal(t)))

export const Parameter = Type.Object({
  name: Word,
  type: ParameterType,
  required: Type.Optional(Type.Boolean({ default: false })),
  description: Type.Optional(Type.String({ maxLength: 500 }))
}, { additionalProperties: false })

export const RobotFunction = Type.Object({
  name: Word,
  description: Type.Optional(Type.String({ maxLength: 500 })),
  parameters: Type.Optional(Type.Array(Parameter, { default: [], maxItems: 100 }))
}, { additionalProperties: false })

export const LaunchMode = Type.Union([Type.Literal('job'), Type.Literal('queue')], { description: 'job: StartJobs; queue: AddQueueItem to queueName (or, for an email with a CSV or XLSX attachment, one queue item per row through BulkAddQueueItems).' })

export const ExtraColumns = Type.Union([Type.Literal('ignore'), Type.Literal('reject')], { description: 'Queue robots, spreadsheet attachments: a column the robot does not take (a comment, a hidden column). ignore leaves it out and the reply names it; reject refuses the file.' })

export const InvalidRows = Type.Union([Type.Literal('reject'), Type.Literal('skip')], { description: 'Queue robots, spreadsheet attachments: reject adds nothing when any row is invalid (the reply lists the problems); skip adds the valid rows and lists the others.' })

export const AttachmentsPolicy = Type.Object({
  bucket: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The Orchestrator storage bucket (its name) in the robot\'s folder. Required for UiPath robots; left out for a robot on an HTTP target, where the files travel in the request.' })),
  folder: Type.Optional(Type.String({ maxLength: 300, pattern: '^[^\\\\:*?"<>|]*$', description: 'A folder inside the bucket (default: none); each launch\'s files go under <folder>/<launch id>/.' })),
  maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 26214400, description: 'Largest file accepted, in bytes (default 10 MiB, at most 25 MiB).' })),
  types: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9]{1,10}$' }), { maxItems: 50, uniqueItems: true, description: 'Allowed file name extensions, lower case without the dot (pdf, png, xlsx…). Empty or left out: any file but executables and archives, which are accepted only when listed here.' }))
}, { additionalProperties: false, description: 'Job robots: every attachment of an accepted email is uploaded to this bucket before the job starts, and the job receives in_Attachments (a JSON array of name, bucket, path, size and contentType). A robot on an HTTP target gets the files in the launch request instead (attachments: name, contentType, size, content in base64).' })

export const DesktopFlowTarget = Type.Object({
  flowId: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'The desktop flow\'s id (its workflow id: make.powerautomate.com → the flow\'s details, the id in the address).' }),
  connectionName: Type.String({ minLength: 1, maxLength: 300, pattern: '^[^\\s]+$', description: 'The desktop flow connection (to a machine or machine group) it runs on: its name from the connection\'s address (connectionName=…), or a connection reference\'s logical name.' }),
  connectionReference: Type.Optional(Type.Boolean({ description: 'Default false. true: connectionName is a connection reference\'s logical name.' }))
}, { additionalProperties: false, description: 'Robots on a power_automate connection: the desktop flow to run and where. The flow receives the email\'s arguments as input variables of the same names, the functions (JSON text) under functionsArgument, and MailrunLaunchId.' })

export const BotTarget = Type.Object({
  fileId: Type.Optional(Type.Integer({ minimum: 1, description: 'Job robots: the bot\'s file id in the Control Room\'s public workspace (Automation → the bot → its id in the address, or GET /v2/repository/workspaces/public/files/list).' })),
  queueId: Type.Optional(Type.Integer({ minimum: 1, description: 'Queue robots (launchMode queue): the workload management queue the email\'s inputs, or its spreadsheet\'s rows, are added to as work items. Its work item model needs a text attribute MailrunReference.' })),
  runAsUserIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 100, uniqueItems: true, description: 'Users (with unattended Bot Runner licences) whose devices may run it; one of them runs each launch.' })),
  poolIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 100, uniqueItems: true, description: 'Device pools it may run on.' }))
}, { additionalProperties: false, description: 'Robots on an automation_anywhere connection. A job robot: the bot to deploy (fileId), and runAsUserIds or poolIds (at least one of them). A queue robot: the queue (queueId) its work items go to. The bot receives the email\'s arguments as input variables of the same names (STRING, NUMBER or BOOLEAN), the functions (JSON text) under functionsArgument, and MailrunLaunchId.' })

const robotFields = {
  name: Type.String({ minLength: 1, maxLength: 200, description: 'What senders write as the subject. Unique per tenant, case-insensitive.' }),
  processName: Type.String({ minLength: 1, maxLength: 200, description: 'The Orchestrator process (release) name. Defaults to name.' }),
  folder: Nullable(Type.String({ minLength: 1, maxLength: 500, description: "The folder's fully qualified name. Null: the connection's default folder." })),
  launchMode: LaunchMode,
  queueName: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  invalidRows: InvalidRows,
  extraColumns: ExtraColumns,
  escapeFormulas: Type.Boolean({ description: 'Queue robots, spreadsheet attachments: a text cell that starts with =, +, -, @, a tab or a carriage return (what a spreadsheet program would run as a formula) reaches the queue item prefixed with \' (numbers and dates typed as such are untouched). On by default.' }),
  attachments: Nullable(AttachmentsPolicy),
  functionsArgument: Word,
  allowAllSenders: Type.Boolean({ description: 'true: every active sender of the tenant may launch it; false: only senderIds.' }),
  senderIds: Type.Array(Uuid, { uniqueItems: true, maxItems: 10000 }),
  operatorIds: Type.Array(Uuid, { uniqueItems: true, maxItems: 1000, description: 'Senders who look after this robot: a STATUS email shows them every launch of it, not only their own.' }),
  description: Type.String({ maxLength: 2000 }),
  parameters: Type.Array(Parameter, { maxItems: 100, description: 'Declared input arguments. When any are declared, undeclared arguments in an email are rejected.' }),
  functions: Type.Array(RobotFunction, { maxItems: 200, description: 'Declared functions. When any are declared, unknown functions in an email are rejected.' }),
  connectionId: Nullable(Type.String({ format: 'uuid', description: 'Where it is launched (GET /api/v1/connections). Null or left out: the tenant\'s UiPath Orchestrator connection. HTTP targets and Power Automate take job robots, Automation Anywhere job and queue robots (only an HTTP target takes attachments, in the request); processName and folder are not used there.' })),
  powerAutomate: Nullable(DesktopFlowTarget),
  automationAnywhere: Nullable(BotTarget)
}

const createExample = {
  name: 'Monthly Report',
  processName: 'MonthlyReport',
  folder: 'Finance',
  launchMode: 'job',
  allowAllSenders: false,
  senderIds: ['3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d'],
  description: 'Builds the monthly finance report',
  parameters: [{ name: 'period', type: 'string', required: true }],
  functions: [
    { name: 'ExtractData', description: 'Pull data from the ERP', parameters: [{ name: 'region', type: 'string', required: true }, { name: 'currency', type: 'string' }] },
    { name: 'BuildReport' },
    { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }
  ]
}

export const RobotCreate = Type.Object({
  name: robotFields.name,
  processName: Type.Optional(robotFields.processName),
  folder: Type.Optional(robotFields.folder),
  launchMode: Type.Optional({ ...LaunchMode, default: 'job' }),
  queueName: Type.Optional(robotFields.queueName),
  invalidRows: Type.Optional({ ...InvalidRows, default: 'reject' }),
  extraColumns: Type.Optional({ ...ExtraColumns, default: 'ignore' }),
  escapeFormulas: Type.Optional(Type.Boolean({ default: true })),
  attachments: Type.Optional(robotFields.attachments),
  functionsArgument: Type.Optional({ ...robotFields.functionsArgument, default: 'in_Functions', description: 'The input argument that receives the function list (a JSON string).' }),
  allowAllSenders: Type.Optional({ ...robotFields.allowAllSenders, default: false }),
  senderIds: Type.Optional({ ...robotFields.senderIds, default: [] }),
  operatorIds: Type.Optional({ ...robotFields.operatorIds, default: [] }),
  description: Type.Optional(robotFields.description),
  parameters: Type.Optional(robotFields.parameters),
  functions: Type.Optional(robotFields.functions),
  connectionId: Type.Optional(robotFields.connectionId),
  powerAutomate: Type.Optional(robotFields.powerAutomate),
  automationAnywhere: Type.Optional(robotFields.automationAnywhere)
}, { additionalProperties: false, examples: [createExample] })

export const RobotPatch = Type.Partial(Type.Object(robotFields), { additionalProperties: false, minProperties: 1, examples: [{ allowAllSenders: true }] })

export const StoredParameter = Type.Object({ name: Type.String(), type: ParameterType, required: Type.Boolean(), description: Type.Optional(Type.String()) })

export const StoredAttachmentsPolicy = Type.Object({ bucket: Type.String(), folder: Type.String(), maxBytes: Type.Integer(), types: Type.Array(Type.String()) })

export const Robot = Type.Object({
  id: Uuid,
  ...robotFields,
  attachments: Nullable(StoredAttachmentsPolicy),
  powerAutomate: Nullable(Type.Object({ flowId: Type.String(), connectionName: Type.String(), connectionReference: Type.Boolean() })),
  automationAnywhere: Nullable(Type.Union([Type.Object({ fileId: Type.Integer(), runAsUserIds: Type.Array(Type.Integer()), poolIds: Type.Array(Type.Integer()) }), Type.Object({ queueId: Type.Integer() })])),
  folder: Nullable(Type.String()),
  parameters: Type.Array(StoredParameter),
  functions: Type.Array(Type.Object({ name: Type.String(), description: Type.Optional(Type.String()), parameters: Type.Array(StoredParameter) })),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, {
  examples: [{
    id: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
    ...createExample,
    connectionId: null,
    powerAutomate: null,
    automationAnywhere: null,
    operatorIds: [],
    queueName: null,
    invalidRows: 'reject',
    extraColumns: 'ignore',
    escapeFormulas: true,
    attachments: null,
    functionsArgument: 'in_Functions',
    parameters: [{ name: 'period', type: 'string', required: true }],
    functions: [{ name: 'BuildReport', parameters: [] }],
    createdAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:00:00.000Z'
  }]
})
