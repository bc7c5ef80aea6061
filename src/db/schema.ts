import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

// Row types of the tables created in migrations/. Timestamps with a database default are
// optional on insert; jsonb columns are typed by what mailrun writes into them.

type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>
type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T> = ColumnType<T, string | T, string | T>

export interface TenantsTable {
  id: Generated<string>
  name: string
  max_mailboxes: number
  locale: Generated<'en' | 'ru'>
  contact_email: string | null
  /** Days content is kept; null: MAILRUN_RETENTION_DAYS. */
  retention_days: number | null
  /** IANA time zone: when digests go out and which day they cover. */
  time_zone: Generated<string>
  created_at: CreatedAt
  updated_at: UpdatedAt
}

/** The mail domains a tenant owns: its mailboxes' and console users' addresses are in them. */
export interface TenantDomainsTable {
  tenant_id: string
  domain: string
  /** Used by two tenants before domains were owned; left to the instance admin. */
  claimed_twice: Generated<boolean>
  created_at: CreatedAt
}

/** One change made through the admin API or the console: who, what, when; field names, never values. */
export interface AuditEventsTable {
  id: Generated<string>
  at: CreatedAt
  tenant_id: string | null
  actor_kind: 'api_key' | 'console_user' | 'instance_admin'
  actor_id: string | null
  actor: string
  via: 'api' | 'console'
  action: string
  resource: string
  resource_id: string | null
  fields: ColumnType<string[], string | undefined, string>
}

export type ChannelKind = 'webhook' | 'slack' | 'teams' | 'google_chat' | 'chatwork' | 'email'

/** Where a tenant's team is told what happened; the URL (it carries a token for Slack, Teams and Google Chat) and secrets sealed. */
export type ConnectionKind = 'http' | 'power_automate' | 'automation_anywhere'

/** A Power Automate connection's settings that are not secret. */
export interface PowerAutomateSettings { tenantId: string, clientId: string, authority: string }

/** An Automation Anywhere connection's setting that is not secret: the Control Room user it signs in as. */
export interface AutomationAnywhereSettings { username: string }

/** What a robot on a Power Automate connection starts: a desktop flow, on a connection (or a connection reference). */
export interface DesktopFlowTarget { flowId: string, connectionName: string, connectionReference: boolean }

/** What a robot on an Automation Anywhere connection deploys: a bot (its repository file id), run as these users or on these device pools. */
export interface BotTarget { fileId: number, runAsUserIds: number[], poolIds: number[] }

/** What a queue robot on an Automation Anywhere connection adds work items to: a WLM queue. */
export interface WorkQueueTarget { queueId: number }

/** What a robot names on its platform, where that platform needs more than the connection. */
export type RobotTarget = DesktopFlowTarget | BotTarget | WorkQueueTarget

export const isDesktopFlow = (target: RobotTarget | null): target is DesktopFlowTarget => target !== null && 'flowId' in target
export const isBot = (target: RobotTarget | null): target is BotTarget => target !== null && 'fileId' in target
export const isWorkQueue = (target: RobotTarget | null): target is WorkQueueTarget => target !== null && 'queueId' in target

/** A launch target other than the tenant's UiPath Orchestrator: a signed HTTP target or a Power Automate environment. */
export interface ConnectionsTable {
  id: Generated<string>
  tenant_id: string
  name: string
  kind: ConnectionKind
  url_enc: string
  /** The URL's scheme and host, shown instead of it. */
  url_hint: string
  /** http: the whsec_ signing secret (requests and callbacks are signed with it). power_automate: the Entra client secret. automation_anywhere: the Control Room API key. */
  secret_enc: string
  settings: ColumnType<Partial<PowerAutomateSettings & AutomationAnywhereSettings>, string | undefined, string>
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export interface NotificationChannelsTable {
  id: Generated<string>
  tenant_id: string
  name: string
  kind: ChannelKind
  events: ColumnType<string[], string | undefined, string>
  url_enc: string | null
  /** The URL's scheme and host, shown instead of it. */
  url_hint: string | null
  /** Webhook: the whsec_ signing secret. Chatwork: the API token. */
  secret_enc: string | null
  room_id: string | null
  recipients: ColumnType<string[], string | undefined, string>
  failing_since: Date | null
  /** When the admins were told by email that it has failed for a day (once per failing spell). */
  failing_told_at: Date | null
  /** When the channel may be sent to next (one request a second). */
  next_send_at: Date | null
  last_error: string | null
  digest: 'daily' | 'weekly' | null
  /** The last period a digest was sent for (a date, or a week's Monday). */
  digest_period: string | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

/** One event on its way to one channel; its id is the webhook-id, the same on every retry. */
export interface ChannelDeliveriesTable {
  id: Generated<string>
  channel_id: string
  tenant_id: string
  event_type: string
  data: Json<Record<string, unknown>>
  state: Generated<'pending' | 'sent' | 'failed'>
  attempts: Generated<number>
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>
  give_up_at: ColumnType<Date, Date | string | undefined, Date | string>
  last_status: number | null
  last_answer: string | null
  created_at: CreatedAt
  sent_at: Date | null
}

/** A failing condition told to the team once; closed when it clears. */
export interface IncidentsTable {
  id: Generated<string>
  tenant_id: string
  kind: string
  subject: string
  data: Json<Record<string, unknown>>
  opened_at: CreatedAt
  closed_at: Date | null
}

export interface ApiKeysTable {
  id: Generated<string>
  scope: 'admin' | 'tenant'
  tenant_id: string | null
  name: Generated<string>
  prefix: string
  key_hash: string
  created_at: CreatedAt
  last_used_at: Timestamp | null
  revoked_at: Timestamp | null
}

export interface OrchestratorConnectionsTable {
  id: Generated<string>
  tenant_id: string
  kind: 'cloud' | 'onprem'
  url: string
  organization: string | null
  tenant_name: string | null
  auth_mode: 'client_credentials' | 'password' | 'refresh_token' | 'token'
  client_id: string | null
  scopes: string | null
  username: string | null
  secret_enc: string | null
  default_folder: string | null
  webhook_secret_enc: string | null
  supports_job_reference: boolean | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

/**
 * How mailrun signs in to a mailbox's IMAP or SMTP server; the secret of each kind is sealed in
 * the `*_password_enc` column (the password itself, or for the OAuth2 kinds a sealed JSON
 * `SealedOAuthSecret`). Settings saved before OAuth2 existed have no `auth`: a password.
 */
export type MailAuth =
  | { kind: 'password' }
  /** Client credentials at the Microsoft identity platform; `x5t` set when signing in with a certificate. */
  | { kind: 'microsoft', tenantId: string, clientId: string, authority: string, x5t: string | null, thumbprint: string | null }
  /** A service account with domain-wide delegation: a signed JWT assertion with `sub` = the user. */
  | { kind: 'google', clientEmail: string, tokenUri: string, privateKeyId: string | null }
  /** A refresh token at any OAuth2 token endpoint; rotated refresh tokens are sealed back. */
  | { kind: 'oauth_refresh', tokenUrl: string, clientId: string, scope: string | null, hasClientSecret: boolean }
  /** SMTP only: the IMAP settings' sign-in and its tokens. */
  | { kind: 'same_as_imap' }

export interface SealedOAuthSecret { clientSecret?: string, privateKey?: string, refreshToken?: string }

export interface ImapSettings {
  host: string
  port: number
  tls: boolean
  user: string
  folders: string[]
  auth?: MailAuth
  /** What the sweep does with a message once it is stored and decided; absent: leave. */
  afterProcessing?: 'leave' | 'seen' | 'move'
  /** move: where handled mail goes (created when missing). */
  processedFolder?: string
  /** move: where refused mail goes; absent: processedFolder. */
  rejectedFolder?: string | null
}

export interface SmtpSettings {
  host: string
  port: number
  tls: boolean
  user: string | null
  fromName: string | null
  auth?: MailAuth
}

/** Microsoft Graph push for a mailbox: whose mail (`user`), where Graph is, how to sign in (microsoft). */
export interface GraphSettings {
  user: string
  baseUrl: string
  auth: MailAuth
}

export interface CanarySettings { intervalMinutes: number, deadlineSeconds: number }

/** One canary sent: found (detected, by which door) or missed. */
export interface CanariesTable {
  id: Generated<string>
  tenant_id: string
  mailbox_id: string
  token: string
  state: Generated<'sent' | 'detected' | 'missed'>
  created_at: CreatedAt
  detected_at: Date | null
  door: string | null
}

export interface MailboxesTable {
  id: Generated<string>
  tenant_id: string
  address: string
  active: Generated<boolean>
  sender_auth: Generated<'dmarc' | 'provider' | 'off'>
  trusted_authserv_id: string | null
  ingress_token_hash: string
  /** The same token sealed, so its URLs can be shown again; null for mailboxes from before it was kept. */
  ingress_token_enc: string | null
  mailgun_signing_key_enc: string | null
  sendgrid_username: string | null
  sendgrid_password_enc: string | null
  imap: Json<ImapSettings> | null
  imap_password_enc: string | null
  imap_configured_at: Timestamp | null
  imap_last_error: string | null
  imap_last_error_at: Timestamp | null
  imap_last_swept_at: Timestamp | null
  smtp: Json<SmtpSettings> | null
  smtp_password_enc: string | null
  graph: Json<GraphSettings> | null
  graph_secret_enc: string | null
  graph_configured_at: Timestamp | null
  graph_last_error: string | null
  graph_last_error_at: Timestamp | null
  graph_last_synced_at: Timestamp | null
  /** The canary: a test email to itself every intervalMinutes, expected back within deadlineSeconds. */
  canary: Json<CanarySettings> | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export interface SendersTable {
  id: Generated<string>
  tenant_id: string
  full_name: string
  email: string
  active: Generated<boolean>
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export interface ParameterDeclaration {
  name: string
  type: 'string' | 'number' | 'boolean' | 'date'
  required: boolean
  description?: string
}

export interface FunctionDeclaration {
  name: string
  description?: string
  parameters: ParameterDeclaration[]
}

export interface RobotsTable {
  id: Generated<string>
  tenant_id: string
  /** The launch target (connections); null: the tenant's UiPath Orchestrator connection. */
  connection_id: Generated<string | null>
  /** What the target needs to start it (power_automate: the desktop flow); null for UiPath and HTTP. */
  target: ColumnType<RobotTarget | null, string | null | undefined, string | null>
  name: string
  name_key: string
  process_name: string
  folder: string | null
  launch_mode: Generated<'job' | 'queue'>
  queue_name: string | null
  invalid_rows: Generated<'reject' | 'skip'>
  extra_columns: Generated<'reject' | 'ignore'>
  escape_formulas: Generated<boolean>
  attachments: ColumnType<AttachmentPolicy | null, string | null | undefined, string | null>
  functions_argument: Generated<string>
  allow_all_senders: Generated<boolean>
  description: Generated<string>
  parameters: ColumnType<ParameterDeclaration[], string | undefined, string>
  functions: ColumnType<FunctionDeclaration[], string | undefined, string>
  cached_folder_id: number | null
  cached_release_key: string | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export interface RobotSendersTable {
  tenant_id: string
  robot_id: string
  sender_id: string
}

export type MessageStatus = 'received' | 'accepted' | 'rejected' | 'ignored' | 'failed'
export type Door = 'mime' | 'mailgun' | 'sendgrid' | 'imap' | 'console' | 'smtp' | 'graph'

export interface MessagesTable {
  id: Generated<string>
  tenant_id: string
  mailbox_id: string
  door: Door
  dedupe_key: string
  message_id_header: string | null
  from_address: string | null
  sender_id: string | null
  robot_id: string | null
  subject: string | null
  body: string | null
  raw: Uint8Array | null
  /** On the embedded database: the spool file holding the raw bytes of a large undecided message. */
  raw_spool: string | null
  /** Elsewhere: how many rows of message_raw_chunks hold the raw bytes of a large undecided message. */
  raw_chunks: number | null
  raw_sha256: string
  size_bytes: number
  auth_verdict: Json<Record<string, unknown>> | null
  status: Generated<MessageStatus>
  reason: string | null
  problems: ColumnType<Problem[], string | undefined, string>
  reply_to: Json<ReplyTo> | null
  imap_folder: string | null
  internal_date: Timestamp | null
  detection_latency_ms: number | null
  received_at: CreatedAt
  processed_at: Timestamp | null
  /** Failed attempts at deciding this message; past a few it is failed with the error. */
  decide_attempts: Generated<number>
  /** When recovery may try to decide it again (null: 30 s after it arrived). */
  next_decide_at: Timestamp | null
  /** When its content (and its launch's, and the replies') was removed, and why. */
  content_removed_at: Timestamp | null
  content_removed_by: 'retention' | 'erasure' | null
}

/** How to answer a message in its thread. */
export interface ReplyTo {
  to: string
  name: string
  subject: string
  messageId: string | null
  references: string[]
  /** Set when the sender asked for no automatic answers (X-Auto-Response-Suppress). */
  suppress?: string
}

/** Something wrong with a message, worded for the sender; `line` is 1-based in the body. */
export interface Problem {
  line?: number
  text?: string
  /** Which problem (src/commands/problem-text.ts), so a reply can say it in the sender's language. */
  kind?: string
  params?: Record<string, unknown>
  /** In English: the API's and the logs' words. */
  message: string
}

export type LaunchState = 'pending' | 'launching' | 'launched' | 'completed' | 'faulted' | 'stopped' | 'failed'

export interface LaunchesTable {
  id: Generated<string>
  tenant_id: string
  message_id: string
  robot_id: string | null
  sender_id: string | null
  plan: Json<Record<string, unknown>>
  input_arguments: Json<Record<string, unknown>> | null
  state: Generated<LaunchState>
  attempts: Generated<number>
  next_attempt_at: Timestamp | null
  locked_until: Timestamp | null
  last_error: string | null
  error_code: string | null
  trace_id: string | null
  job_id: number | null
  job_key: string | null
  job_info: string | null
  output_arguments: Json<Record<string, unknown>> | null
  launched_at: Timestamp | null
  finished_at: Timestamp | null
  /** Since when a job may exist that mailrun has not seen: only look-ups until a quiet period passes. */
  unsure_since: Timestamp | null
  /** The claim that holds the row while it is launching (see launch-service: claims handed back). */
  claim_token: string | null
  /** The launch target it was started through (connections); null: the UiPath connection. */
  connection_id: Generated<string | null>
  /** An HTTP target's status URL for the run (it may carry a token), sealed. */
  status_url_enc: Generated<string | null>
  created_at: CreatedAt
  updated_at: UpdatedAt
}

/** Where a robot's email attachments go (an Orchestrator storage bucket) and which it accepts. */
export interface AttachmentPolicy {
  bucket: string
  /** A folder inside the bucket; each launch's files go under <folder>/<launch id>/. */
  folder: string
  maxBytes: number
  /** Allowed file name extensions, lower case without the dot; empty: any but executables and archives. */
  types: string[]
}

export interface LaunchFilesTable {
  launch_id: string
  ordinal: number
  tenant_id: string
  /** Position among the message's attachments, as the parser numbers them. */
  attachment_index: number
  name: string
  content_type: string
  size_bytes: number
  bucket_path: string
  uploaded_at: Timestamp | null
}

/** The spreadsheet rows a queue launch adds, one queue item each: [{ row, content }]. */
export interface LaunchRowsTable {
  launch_id: string
  tenant_id: string
  items: ColumnType<Array<{ row: number, content: Record<string, string | number | boolean> }>, string, string>
  item_count: number
  /** Rows left out by the robot's "skip" policy: how many, and their problems (bounded). */
  skipped: ColumnType<{ rows: number, problems: Problem[], ignoredColumns?: string[] }, string | undefined, string>
  added_count: number | null
}

/** Failed credentials per key (a client address, or a hashed console account) and minute, shared by every process. */
export interface AuthFailuresTable {
  key: string
  window_start: Timestamp
  failures: number
}

export interface LaunchEventsTable {
  id: Generated<number>
  launch_id: string
  at: CreatedAt
  state: string
  detail: string | null
}

export interface NotificationsTable {
  id: Generated<string>
  tenant_id: string
  mailbox_id: string | null
  message_id: string | null
  launch_id: string | null
  kind: string
  recipient: string
  subject: string
  text_body: string
  html_body: string | null
  headers: ColumnType<Record<string, string>, string | undefined, string>
  state: Generated<'pending' | 'sent' | 'failed' | 'suppressed'>
  attempts: Generated<number>
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>
  last_error: string | null
  sent_at: Timestamp | null
  give_up_at: ColumnType<Date, Date | string | undefined, Date | string>
  created_at: CreatedAt
}

export interface ImapCursorsTable {
  mailbox_id: string
  folder: string
  uidvalidity: number
  last_uid: Generated<number>
  last_swept_at: Timestamp | null
}

export interface MailgunTokensTable {
  token: string
  expires_at: Timestamp
  message_id: string | null
}

export interface GraphSubscriptionsTable {
  mailbox_id: string
  /** The well-known folder name: inbox or junkemail. */
  folder: string
  subscription_id: string | null
  client_state_enc: string | null
  expires_at: Timestamp | null
  delta_link: string | null
  updated_at: UpdatedAt
}

export interface ImapLeasesTable {
  mailbox_id: string
  holder: string
  expires_at: Timestamp
}

export interface OrchestratorListBudgetTable {
  tenant_id: string
  window_start: Timestamp
  used: number
}

export interface MessageRawChunksTable {
  message_id: string
  seq: number
  bytes: Uint8Array
}

export type UserRole = 'admin' | 'viewer'

export interface UsersTable {
  id: Generated<string>
  tenant_id: string
  email: string
  name: Generated<string>
  role: UserRole
  /** scrypt (see auth/passwords.ts); null until the user sets one through a one-time link. */
  password_hash: string | null
  /** The user's own choice of language; null: the tenant's. */
  locale: 'en' | 'ru' | null
  disabled_at: Timestamp | null
  created_at: CreatedAt
  updated_at: UpdatedAt
}

export interface UserTokensTable {
  token_hash: string
  user_id: string
  purpose: 'set_password'
  expires_at: Timestamp
  created_at: CreatedAt
}

export interface ConsoleSessionsTable {
  id_hash: string
  /** Null for the instance admin, who signs in with the instance-admin key. */
  user_id: string | null
  instance_admin: Generated<boolean>
  created_at: CreatedAt
  expires_at: Timestamp
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>
}

/** Counters kept by triggers: messages by status and launches by state, per tenant and hour (four shards per key). */
export interface ActivityHourlyTable {
  tenant_id: string
  hour: Timestamp
  kind: 'message' | 'launch'
  state: string
  shard: number
  n: number
}

export interface Database {
  tenants: TenantsTable
  tenant_domains: TenantDomainsTable
  audit_events: AuditEventsTable
  notification_channels: NotificationChannelsTable
  channel_deliveries: ChannelDeliveriesTable
  incidents: IncidentsTable
  canaries: CanariesTable
  api_keys: ApiKeysTable
  orchestrator_connections: OrchestratorConnectionsTable
  mailboxes: MailboxesTable
  senders: SendersTable
  robots: RobotsTable
  robot_senders: RobotSendersTable
  messages: MessagesTable
  launches: LaunchesTable
  launch_events: LaunchEventsTable
  auth_failures: AuthFailuresTable
  launch_rows: LaunchRowsTable
  launch_files: LaunchFilesTable
  connections: ConnectionsTable
  notifications: NotificationsTable
  imap_cursors: ImapCursorsTable
  mailgun_tokens: MailgunTokensTable
  imap_leases: ImapLeasesTable
  graph_leases: ImapLeasesTable
  robot_operators: RobotSendersTable
  graph_subscriptions: GraphSubscriptionsTable
  message_raw_chunks: MessageRawChunksTable
  users: UsersTable
  user_tokens: UserTokensTable
  console_sessions: ConsoleSessionsTable
  activity_hourly: ActivityHourlyTable
  orchestrator_list_budget: OrchestratorListBudgetTable
}

export type Tenant = Selectable<TenantsTable>
export type NewTenant = Insertable<TenantsTable>
export type TenantUpdate = Updateable<TenantsTable>
