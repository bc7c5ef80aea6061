import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { isIP } from 'node:net'
import { buildOutboundPolicy, DEFAULT_OUTBOUND_DENY, OutboundSettingError, type OutboundDeny } from './net/outbound-guard.js'

// Each variable carries `expected`: the words used when its value is wrong, so the
// operator reads what to write instead of a JSON-schema path.
function variable<T extends TSchema> (schema: T, expected: string): T {
  return { ...schema, expected }
}

export const EnvSchema = Type.Object({
  PORT: variable(Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port the HTTP server listens on.' }),
    'a TCP port number from 0 to 65535'),
  HOST: variable(Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address the HTTP server binds to.' }),
    'an IP address or host name to bind to'),
  DATABASE_URL: variable(Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL connection URL. Unset: the embedded PGlite database in MAILRUN_DATA_DIR.' })),
    'a URL starting with postgres:// or postgresql://'),
  MAILRUN_DATABASE_PREPARED: variable(Type.Boolean({ default: true, description: 'With DATABASE_URL: run the hottest statements as named (prepared) statements, each planned once per connection. false behind a pooler that loses them (PgBouncer in transaction mode before 1.21, or with max_prepared_statements = 0).' }),
    'true or false'),
  MAILRUN_DATA_DIR: variable(Type.String({ minLength: 1, default: './data', description: 'Directory for the embedded database and generated keys.' }),
    'a directory path'),
  LOG_LEVEL: variable(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'pino log level.' }),
    'one of fatal, error, warn, info, debug, trace, silent'),
  MAILRUN_PUBLIC_URL: variable(Type.Optional(Type.String({ pattern: '^https?://[^/]+', description: 'The URL mail providers reach mailrun at; used to build ingress URLs. Default: http://localhost:PORT.' })),
    'an http:// or https:// URL'),
  MAILRUN_ADMIN_KEY: variable(Type.Optional(Type.String({ minLength: 24, description: 'The instance-admin API key. Unset: one is generated at first start, stored hashed and printed once.' })),
    'a key of at least 24 characters'),
  MAILRUN_SECRET_KEY: variable(Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'AES-256-GCM key for secrets at rest: 32 bytes in base64 (openssl rand -base64 32). Required with DATABASE_URL; unset on the embedded database: generated into MAILRUN_DATA_DIR/secret.key.' })),
    '32 bytes in base64, 44 characters (generate with: openssl rand -base64 32)'),
  MAILRUN_OUTBOUND_DENY: variable(Type.String({ minLength: 1, default: DEFAULT_OUTBOUND_DENY, description: 'Address ranges (CIDRs, comma-separated) that tenant-supplied hosts (Orchestrator, IMAP, SMTP) may not reach: by default loopback, unspecified, private, shared, link-local (cloud metadata), multicast and reserved ranges. "none" allows all.' }),
    'comma-separated CIDRs such as 127.0.0.0/8,::1/128, or none'),
  MAILRUN_OUTBOUND_ALLOW: variable(Type.Optional(Type.String({ minLength: 1, description: 'Addresses (CIDRs) or host names that tenant-supplied hosts may reach even though MAILRUN_OUTBOUND_DENY covers them: an on-premises Orchestrator or mail server on the internal network.' })),
    'comma-separated CIDRs or host names such as 10.20.0.0/16,orchestrator.corp.example'),
  MAILRUN_ADMIN_RATE_LIMIT: variable(Type.Integer({ minimum: 1, maximum: 1000000, default: 600, description: 'Admin API requests allowed per key (or per client address without one) per minute.' }),
    'a whole number of requests per minute, at least 1'),
  MAILRUN_AUTH_FAILURE_LIMIT: variable(Type.Integer({ minimum: 1, maximum: 1000000, default: 20, description: 'Failed credentials (wrong or missing API key, unknown ingress token, bad provider signature) allowed per client address per minute; past it the address gets 429 until the minute ends.' }),
    'a whole number of failures per minute, at least 1'),
  MAILRUN_TRUST_PROXY: variable(Type.String({ minLength: 1, default: 'false', description: 'Whom to believe about the client address (X-Forwarded-For): false (no one, the default), a number of proxy hops, or a comma-separated list of proxy addresses or CIDRs.' }),
    'false, a number of hops such as 1, or proxy addresses/CIDRs such as 10.0.0.0/8,127.0.0.1'),
  MAILRUN_MAX_MESSAGE_BYTES: variable(Type.Integer({ minimum: 1024, maximum: 200 * 1024 * 1024, default: 40 * 1024 * 1024, description: 'Largest message (or provider post) accepted, in bytes; larger ones answer 413. The default, 40 MiB, admits a 25 MB attachment: base64 makes it 4/3 larger and its line breaks add 2 bytes in 78, about 36 MB, plus the text and headers.' }),
    'a number of bytes from 1024 to 209715200'),
  MAILRUN_MAX_QUEUE_ROWS: variable(Type.Integer({ minimum: 1, maximum: 200000, default: 50000, description: 'Most rows one spreadsheet attachment may add to a queue robot; a larger file is refused while it is read, with a reply saying to split it.' }),
    'a whole number from 1 to 200000'),
  MAILRUN_MAILGUN_MAX_AGE_S: variable(Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, default: 9 * 3600, description: 'How old a Mailgun signature timestamp may be. Mailgun retries for 8 hours with the original timestamp, so the default covers that.' }),
    'a number of seconds from 60 to 604800'),
  MAILRUN_DNS_SERVERS: variable(Type.Optional(Type.String({ pattern: '^\\s*[^,\\s]+(\\s*,\\s*[^,\\s]+)*\\s*$', description: 'DNS servers for SPF/DKIM/DMARC look-ups (comma-separated, host or host:port). Unset: the system resolver.' })),
    'comma-separated DNS servers such as 10.0.0.2,127.0.0.1:5353'),
  MAILRUN_LAUNCH_DEADLINE_MS: variable(Type.Integer({ minimum: 0, maximum: 120000, default: 10000, description: 'How long a door waits for the launch before answering "retrying" (the durable queue finishes it).' }),
    'a number of milliseconds from 0 to 120000'),
  MAILRUN_LAUNCH_MAX_ATTEMPTS: variable(Type.Integer({ minimum: 1, maximum: 100, default: 12, description: 'Attempts at a launch facing transient Orchestrator faults before it is marked failed (backoff doubles from 2 s up to 5 min).' }),
    'a whole number from 1 to 100'),
  MAILRUN_START_TIMEOUT_MS: variable(Type.Integer({ minimum: 100, maximum: 3600000, default: 600000, description: 'How long mailrun waits for the answer to a StartJobs (or AddQueueItem) before treating it as unanswered. Long on purpose: a start abandoned early can still land.' }),
    'a number of milliseconds from 100 to 3600000'),
  MAILRUN_LAUNCH_QUIET_MS: variable(Type.Integer({ minimum: 100, maximum: 86400000, default: 900000, description: 'After a start whose answer never came, how long mailrun only looks the job up (by its Reference) before it may start it again: longer than any request can take to land.' }),
    'a number of milliseconds from 100 to 86400000'),
  MAILRUN_RETENTION_DAYS: variable(Type.Integer({ minimum: 1, maximum: 36500, default: 90, description: "Days a message's content (subject, body, inputs, outputs, reply texts, attachment names) is kept once it is finished with; the rows stay for counts. A tenant's retentionDays overrides it." }),
    'a whole number of days from 1 to 36500'),
  MAILRUN_REPLAY_HOURS: variable(Type.Integer({ minimum: 1, maximum: 720, default: 72, description: "Hours a refused or failed message's raw copy is kept (never shown) so an admin can replay it once the sender or robot is fixed; then it is removed by the retention sweep." }),
    'a whole number of hours from 1 to 720'),
  MAILRUN_RETENTION_SWEEP_S: variable(Type.Integer({ minimum: 1, maximum: 86400, default: 3600, description: 'How often the retention sweep removes content past its retention period (in batches of 500 messages).' }),
    'a number of seconds from 1 to 86400'),
  MAILRUN_LAUNCH_CLAIM_MS: variable(Type.Integer({ minimum: 300, maximum: 3600000, default: 60000, description: 'How long a launch attempt holds its claim; renewed while the attempt runs. When a process dies, another takes the launch over after this.' }),
    'a number of milliseconds from 300 to 3600000'),
  MAILRUN_JOB_POLL_INTERVAL_S: variable(Type.Integer({ minimum: 1, maximum: 3600, default: 15, description: 'Interval for polling a running job (it grows to 4x for long jobs); before a job has run that long it is looked at 1, 2, 4, 8 … s after its launch. Webhooks make polling a safety net.' }),
    'a number of seconds from 1 to 3600'),
  MAILRUN_ORCHESTRATOR_LIST_READS_PER_MINUTE: variable(Type.Integer({ minimum: 1, maximum: 1000, default: 30, description: 'Collection reads (GET /odata/Jobs with a filter) job polling may make per tenant and minute, across all instances. UiPath Cloud allows 100 per minute to non-robot callers; single-job reads are not limited.' }),
    'a whole number from 1 to 1000'),
  MAILRUN_ORCHESTRATOR_TIMEOUT_S: variable(Type.Integer({ minimum: 1, maximum: 600, default: 10, description: 'How long one Orchestrator request (a token, a folder, a job look-up) may wait for an answer; StartJobs and AddQueueItem wait MAILRUN_START_TIMEOUT_MS.' }),
    'a number of seconds from 1 to 600'),
  MAILRUN_ALERT_AFTER_S: variable(Type.Integer({ minimum: 1, maximum: 86400, default: 300, description: 'How long a mailbox (IMAP or Graph) or its replies (SMTP) must keep failing before the team is told through its alert channels (mailbox.failing, replies.failing).' }),
    'a number of seconds from 1 to 86400'),
  MAILRUN_CHATWORK_API_URL: variable(Type.String({ pattern: '^https?://', default: 'https://api.chatwork.com/v2', description: 'Base of the Chatwork API that Chatwork alert channels post to (rooms/{room_id}/messages).' }),
    'an http(s) URL'),
  MAILRUN_SMTP_URL: variable(Type.Optional(Type.String({ pattern: '^smtps?://', description: 'Instance default SMTP server for replies (smtp://user:pass@host:587 or smtps://…:465), used for mailboxes without their own smtp settings.' })),
    'an smtp:// or smtps:// URL'),
  MAILRUN_REPLY_LIMIT_PER_HOUR: variable(Type.Integer({ minimum: 1, maximum: 100000, default: 30, description: 'Replies to one address per hour; past it replies are recorded, not sent (mail-loop guard).' }),
    'a whole number from 1 to 100000'),
  MAILRUN_REPLY_GIVE_UP_S: variable(Type.Integer({ minimum: 60, maximum: 30 * 86400, default: 86400, description: 'How long a reply is retried on SMTP faults before it is given up (the error stays visible on the launch).' }),
    'a number of seconds from 60 to 2592000'),
  MAILRUN_SWEEP_INTERVAL_S: variable(Type.Integer({ minimum: 1, maximum: 300, default: 30, description: 'How often the IMAP fallback sweeps every folder of every mailbox in full (INBOX is also watched with IDLE, the other folders through NOTIFY or the quiet-folder check). At most 300: detection within 5 minutes is the promise.' }),
    'a number of seconds from 1 to 300 (mail must be detected within 5 minutes)'),
  MAILRUN_QUIET_FOLDER_CHECK_S: variable(Type.Integer({ minimum: 1, maximum: 300, default: 8, description: 'Where an IMAP server does not offer NOTIFY, how often the folders other than INBOX (Junk, extra folders) are asked for their STATUS between full sweeps. Servers that offer NOTIFY report new mail in them at once.' }),
    'a number of seconds from 1 to 300'),
  MAILRUN_IMAP_LOOKBACK_S: variable(Type.Integer({ minimum: 0, maximum: 7 * 86400, default: 600, description: 'On first sight of a mailbox, also take mail received this long before its IMAP settings were saved.' }),
    'a number of seconds from 0 to 604800'),
  MAILRUN_SMTP_DOOR_PORT: variable(Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port of the SMTP door, where the company MTA, an Exchange connector or a routing rule delivers mail for service mailboxes. Unset: no SMTP door.' })),
    'a TCP port number from 0 to 65535 (25 needs privileges; 2525 is common)'),
  MAILRUN_SMTP_DOOR_PROTOCOL: variable(Type.Union([Type.Literal('smtp'), Type.Literal('lmtp')], { default: 'smtp', description: 'smtp, or lmtp for an MTA that delivers over LMTP (one answer per recipient).' }),
    'smtp or lmtp'),
  MAILRUN_SMTP_DOOR_TLS_CERT: variable(Type.Optional(Type.String({ minLength: 1, description: 'PEM certificate (chain) file for STARTTLS on the SMTP door; with MAILRUN_SMTP_DOOR_TLS_KEY. Unset: no STARTTLS.' })),
    'the path of a PEM certificate file'),
  MAILRUN_SMTP_DOOR_TLS_KEY: variable(Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file for MAILRUN_SMTP_DOOR_TLS_CERT.' })),
    'the path of a PEM private key file'),
  MAILRUN_SMTP_DOOR_AUTH: variable(Type.Optional(Type.String({ pattern: '^[^:]+:.{12,}$', description: 'user:password a relay must authenticate with (AUTH PLAIN/LOGIN, only after STARTTLS when a certificate is set). Unset: no authentication asked.' })),
    'user:password, the password at least 12 characters'),
  MAILRUN_SMTP_DOOR_MAX_CLIENTS: variable(Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'SMTP door connections open at once; more are turned away with 421 until one closes.' }),
    'a whole number from 1 to 10000'),
  MAILRUN_SMTP_DOOR_MAX_CLIENTS_PER_ADDRESS: variable(Type.Integer({ minimum: 1, maximum: 10000, default: 20, description: 'SMTP door connections one client address may hold open at once; more from it are turned away with 421, so one address cannot take every slot.' }),
    'a whole number from 1 to 10000'),
  MAILRUN_SMTP_DOOR_IDLE_S: variable(Type.Integer({ minimum: 5, maximum: 3600, default: 120, description: 'Seconds an SMTP door connection may stay open without starting a message (MAIL FROM); NOOP and RSET do not count. Then 421 and the connection closes.' }),
    'a whole number of seconds from 5 to 3600'),
  MAILRUN_SMTP_DOOR_RATE_LIMIT: variable(Type.Integer({ minimum: 1, maximum: 1000000, default: 600, description: 'Messages per client address per minute on the SMTP door; past it MAIL FROM answers 450 (try again later).' }),
    'a whole number of messages per minute, at least 1'),
  MAILRUN_SHUTDOWN_TIMEOUT_MS: variable(Type.Integer({ minimum: 100, maximum: 600000, default: 10000, description: 'How long a graceful shutdown waits for in-flight requests before exiting.' }),
    'a number of milliseconds from 100 to 600000')
})

export type Env = Static<typeof EnvSchema>

export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  /** Named statements for the hottest ones on PostgreSQL (MAILRUN_DATABASE_PREPARED). */
  databasePrepared: boolean
  dataDir: string
  logLevel: Env['LOG_LEVEL']
  shutdownTimeoutMs: number
  publicUrl: string
  adminKey: string | undefined
  secretKey: Buffer | undefined
  outboundDeny: OutboundDeny
  adminRateLimitPerMinute: number
  authFailureLimitPerMinute: number
  trustProxy: boolean | number | string
  maxMessageBytes: number
  maxQueueRows: number
  mailgunMaxAgeSeconds: number
  dnsServers: string[] | undefined
  launchDeadlineMs: number
  launchMaxAttempts: number
  startTimeoutMs: number
  launchQuietMs: number
  launchClaimMs: number
  retentionDays: number
  replayHours: number
  retentionSweepMs: number
  jobPollIntervalMs: number
  listReadsPerMinute: number
  orchestratorTimeoutMs: number
  smtpUrl: string | undefined
  chatworkApiUrl: string
  alertAfterMs: number
  replyLimitPerHour: number
  replyGiveUpMs: number
  sweepIntervalMs: number
  quietFolderCheckMs: number
  imapLookbackMs: number
  /** The SMTP door, when MAILRUN_SMTP_DOOR_PORT is set. */
  smtpDoor: SmtpDoorConfig | undefined
}

export interface SmtpDoorConfig {
  port: number
  protocol: 'smtp' | 'lmtp'
  tls: { certFile: string, keyFile: string } | undefined
  auth: { user: string, password: string } | undefined
  maxClients: number
  /** Connections one client address may hold open at once. */
  maxClientsPerAddress: number
  /** Milliseconds a connection may stay open without starting a message. */
  idleMs: number
  rateLimitPerMinute: number
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type EnvSource = Record<string, string | undefined>

// Strict on purpose: "80.5" or "10s" must be refused, not truncated to a number.
function convert (schema: TSchema, value: string): unknown {
  if (schema.type === 'integer' && /^-?\d+$/.test(value)) return Number(value)
  if (schema.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  return value
}

const dnsServersOf = (env: Env): string[] | undefined => env.MAILRUN_DNS_SERVERS?.split(',').map((s) => s.trim()).filter(Boolean)

export function loadConfig (source: EnvSource): Config {
  const known = Object.keys(EnvSchema.properties) as Array<keyof Env>
  const raw: Record<string, unknown> = {}
  const written: Record<string, string> = {}
  for (const name of known) {
    const value = source[name]
    // An empty variable means "not set" (a common result of `FOO= cmd` or compose files).
    if (value !== undefined && value.trim() !== '') {
      written[name] = value.trim()
      raw[name] = convert(EnvSchema.properties[name], value.trim())
    }
  }
  const converted = Value.Default(EnvSchema, raw)
  const problems: string[] = []
  const seen = new Set<string>()
  for (const error of Value.Errors(EnvSchema, converted)) {
    const name = error.path.replace(/^\//, '').split('/')[0] ?? ''
    if (seen.has(name)) continue
    seen.add(name)
    const schema = EnvSchema.properties[name as keyof Env] as { expected?: string } | undefined
    const given = written[name]
    problems.push(`${name}: expected ${schema?.expected ?? 'a valid value'}, got ${given === undefined ? 'nothing' : JSON.stringify(given)}`)
  }
  let outboundDeny: OutboundDeny = 'none'
  if (!seen.has('MAILRUN_OUTBOUND_DENY') && !seen.has('MAILRUN_OUTBOUND_ALLOW')) {
    const env = converted as Env
    try {
      outboundDeny = buildOutboundPolicy({ deny: env.MAILRUN_OUTBOUND_DENY, allow: env.MAILRUN_OUTBOUND_ALLOW, dnsServers: dnsServersOf(env) })
    } catch (error) {
      const variable = error instanceof OutboundSettingError ? error.variable : 'MAILRUN_OUTBOUND_DENY'
      problems.push(`${variable}: expected ${String((EnvSchema.properties[variable] as { expected?: string }).expected)}; ${(error as Error).message}`)
    }
  }
  let trustProxy: boolean | number | string = false
  if (!seen.has('MAILRUN_TRUST_PROXY')) {
    const value = (converted as Env).MAILRUN_TRUST_PROXY.trim()
    if (/^(false|off|no|0)$/i.test(value)) trustProxy = false
    else if (/^[1-9]\d{0,1}$/.test(value)) trustProxy = Number(value)
    else {
      const entries = value.split(',').map((e) => e.trim()).filter(Boolean)
      const bad = entries.find((e) => isIP(e.split('/')[0] ?? '') === 0 || (e.includes('/') && !/^\d{1,3}$/.test(e.split('/')[1] ?? '')))
      if (bad !== undefined || entries.length === 0) problems.push(`MAILRUN_TRUST_PROXY: expected ${String((EnvSchema.properties.MAILRUN_TRUST_PROXY as { expected?: string }).expected)}, got ${JSON.stringify(written.MAILRUN_TRUST_PROXY ?? value)}`)
      else trustProxy = entries.join(',')
    }
  }
  const door = converted as Partial<Env>
  if ((door.MAILRUN_SMTP_DOOR_TLS_CERT === undefined) !== (door.MAILRUN_SMTP_DOOR_TLS_KEY === undefined)) {
    problems.push('MAILRUN_SMTP_DOOR_TLS_CERT and MAILRUN_SMTP_DOOR_TLS_KEY: expected both (the certificate and its key) or neither')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const env = converted as Env
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    databasePrepared: env.MAILRUN_DATABASE_PREPARED,
    dataDir: env.MAILRUN_DATA_DIR,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.MAILRUN_SHUTDOWN_TIMEOUT_MS,
    publicUrl: (env.MAILRUN_PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    adminKey: env.MAILRUN_ADMIN_KEY,
    secretKey: env.MAILRUN_SECRET_KEY !== undefined ? Buffer.from(env.MAILRUN_SECRET_KEY, 'base64') : undefined,
    outboundDeny,
    adminRateLimitPerMinute: env.MAILRUN_ADMIN_RATE_LIMIT,
    authFailureLimitPerMinute: env.MAILRUN_AUTH_FAILURE_LIMIT,
    trustProxy,
    maxMessageBytes: env.MAILRUN_MAX_MESSAGE_BYTES,
    maxQueueRows: env.MAILRUN_MAX_QUEUE_ROWS,
    mailgunMaxAgeSeconds: env.MAILRUN_MAILGUN_MAX_AGE_S,
    dnsServers: dnsServersOf(env),
    launchDeadlineMs: env.MAILRUN_LAUNCH_DEADLINE_MS,
    launchMaxAttempts: env.MAILRUN_LAUNCH_MAX_ATTEMPTS,
    startTimeoutMs: env.MAILRUN_START_TIMEOUT_MS,
    launchQuietMs: env.MAILRUN_LAUNCH_QUIET_MS,
    launchClaimMs: env.MAILRUN_LAUNCH_CLAIM_MS,
    retentionDays: env.MAILRUN_RETENTION_DAYS,
    replayHours: env.MAILRUN_REPLAY_HOURS,
    retentionSweepMs: env.MAILRUN_RETENTION_SWEEP_S * 1000,
    jobPollIntervalMs: env.MAILRUN_JOB_POLL_INTERVAL_S * 1000,
    listReadsPerMinute: env.MAILRUN_ORCHESTRATOR_LIST_READS_PER_MINUTE,
    orchestratorTimeoutMs: env.MAILRUN_ORCHESTRATOR_TIMEOUT_S * 1000,
    smtpUrl: env.MAILRUN_SMTP_URL,
    chatworkApiUrl: env.MAILRUN_CHATWORK_API_URL.replace(/\/+$/, ''),
    alertAfterMs: env.MAILRUN_ALERT_AFTER_S * 1000,
    replyLimitPerHour: env.MAILRUN_REPLY_LIMIT_PER_HOUR,
    replyGiveUpMs: env.MAILRUN_REPLY_GIVE_UP_S * 1000,
    sweepIntervalMs: env.MAILRUN_SWEEP_INTERVAL_S * 1000,
    quietFolderCheckMs: env.MAILRUN_QUIET_FOLDER_CHECK_S * 1000,
    imapLookbackMs: env.MAILRUN_IMAP_LOOKBACK_S * 1000,
    smtpDoor: env.MAILRUN_SMTP_DOOR_PORT === undefined
      ? undefined
      : {
          port: env.MAILRUN_SMTP_DOOR_PORT,
          protocol: env.MAILRUN_SMTP_DOOR_PROTOCOL,
          tls: env.MAILRUN_SMTP_DOOR_TLS_CERT !== undefined && env.MAILRUN_SMTP_DOOR_TLS_KEY !== undefined ? { certFile: env.MAILRUN_SMTP_DOOR_TLS_CERT, keyFile: env.MAILRUN_SMTP_DOOR_TLS_KEY } : undefined,
          auth: env.MAILRUN_SMTP_DOOR_AUTH === undefined ? undefined : { user: env.MAILRUN_SMTP_DOOR_AUTH.slice(0, env.MAILRUN_SMTP_DOOR_AUTH.indexOf(':')), password: env.MAILRUN_SMTP_DOOR_AUTH.slice(env.MAILRUN_SMTP_DOOR_AUTH.indexOf(':') + 1) },
          maxClients: env.MAILRUN_SMTP_DOOR_MAX_CLIENTS,
          maxClientsPerAddress: env.MAILRUN_SMTP_DOOR_MAX_CLIENTS_PER_ADDRESS,
          idleMs: env.MAILRUN_SMTP_DOOR_IDLE_S * 1000,
          rateLimitPerMinute: env.MAILRUN_SMTP_DOOR_RATE_LIMIT
        }
  }
}
