import { Type } from '@sinclair/typebox'
import { Nullable, SecretMarker, Timestamp, Uuid } from './common.js'

// Service mailboxes: where senders write, how mail reaches mailrun, how replies leave.

export const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/:@]+$|^\\[[0-9a-fA-F:]+\\]$' })
export const Port = Type.Integer({ minimum: 1, maximum: 65535 })
export const SenderAuth = Type.Union([Type.Literal('dmarc'), Type.Literal('provider'), Type.Literal('off')], {
  description: 'dmarc: DMARC pass or aligned DKIM pass (default). provider: trust the provider verdicts or the Authentication-Results of trustedAuthservId. off: allow-list only (not recommended).'
})

// How mailrun signs in to IMAP and SMTP. Secrets are write-only: on update, leave them out to keep
// the stored ones (the kind must stay the same).
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$', description })
const WriteOnly = (description: string) => Type.String({ minLength: 1, maxLength: 20_000, description: `Write-only. ${description}` })
const HttpsUrl = (description: string) => Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://', description })

export const PasswordAuthInput = Type.Object({ kind: Type.Literal('password') }, { additionalProperties: false, description: 'The password field of these settings (the default).' })
export const MicrosoftAuthInput = Type.Object({
  kind: Type.Literal('microsoft'),
  tenantId: Id('The directory (tenant) id, or a verified domain of the tenant.'),
  clientId: Id('The application (client) id of the app registration.'),
  clientSecret: Type.Optional(WriteOnly('A client secret of the app registration (its value, not its id). Give this or certificate.')),
  certificate: Type.Optional(Type.Object({
    certificate: Type.String({ minLength: 1, maxLength: 20_000, description: 'The certificate uploaded to the app registration, PEM.' }),
    privateKey: WriteOnly('Its private key, PEM (PKCS#8 or PKCS#1, not encrypted).')
  }, { additionalProperties: false })),
  authority: Type.Optional(HttpsUrl('Default https://login.microsoftonline.com; national clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn.'))
}, { additionalProperties: false, description: 'Client credentials at the Microsoft identity platform (Exchange Online: IMAP.AccessAsApp / SMTP.SendAsApp). See docs/providers.md.' })
export const GoogleAuthInput = Type.Object({
  kind: Type.Literal('google'),
  serviceAccountKey: Type.Optional(WriteOnly('The service account\'s JSON key file, as text. Its client id needs domain-wide delegation for https://mail.google.com/.'))
}, { additionalProperties: false, description: 'A Google Workspace service account with domain-wide delegation, acting as the user of these settings.' })
export const OAuthRefreshAuthInput = Type.Object({
  kind: Type.Literal('oauth_refresh'),
  tokenUrl: HttpsUrl('The token endpoint, e.g. https://oauth2.googleapis.com/token or https://oauth.yandex.com/token.'),
  clientId: Id('The OAuth2 client id.'),
  clientSecret: Type.Optional(WriteOnly('The OAuth2 client secret, when the client has one.')),
  refreshToken: Type.Optional(WriteOnly('A refresh token granted for mail (IMAP and SMTP) by the mailbox\'s user.')),
  scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Sent with each refresh, when the provider needs it.' }))
}, { additionalProperties: false, description: 'A refresh token at any OAuth2 token endpoint (consumer Gmail, Yandex, others). A rotated refresh token is stored sealed.' })
export const SameAsImapAuthInput = Type.Object({ kind: Type.Literal('same_as_imap') }, { additionalProperties: false, description: 'SMTP only: sign in as the IMAP settings do, with the same tokens.' })

const ImapAuthInput = Type.Union([PasswordAuthInput, MicrosoftAuthInput, GoogleAuthInput, OAuthRefreshAuthInput], { description: 'How to sign in. Leave out on update to keep the current kind.' })
const SmtpAuthInput = Type.Union([PasswordAuthInput, MicrosoftAuthInput, GoogleAuthInput, OAuthRefreshAuthInput, SameAsImapAuthInput], { description: 'How to sign in (with a user). Leave out on update to keep the current kind.' })

export const MailAuthView = Type.Union([
  Type.Object({ kind: Type.Literal('password') }),
  Type.Object({ kind: Type.Literal('microsoft'), tenantId: Type.String(), clientId: Type.String(), authority: Type.String(), clientSecret: SecretMarker, certificate: Nullable(Type.Object({ thumbprint: Type.String({ description: 'SHA-1, hex, as the app registration shows it.' }), privateKey: SecretMarker })) }),
  Type.Object({ kind: Type.Literal('google'), clientEmail: Type.String(), tokenUri: Type.String(), serviceAccountKey: SecretMarker }),
  Type.Object({ kind: Type.Literal('oauth_refresh'), tokenUrl: Type.String(), clientId: Type.String(), scope: Nullable(Type.String()), clientSecret: SecretMarker, refreshToken: SecretMarker }),
  Type.Object({ kind: Type.Literal('same_as_imap') })
])

export const GraphInput = Type.Object({
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 254, pattern: '^[^\\s/]+$', description: 'The mailbox Graph reads (its address or user principal name). Default: the service mailbox address.' })),
  baseUrl: Type.Optional(HttpsUrl('Default https://graph.microsoft.com; national clouds: https://graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn.')),
  auth: Type.Optional(MicrosoftAuthInput)
}, { additionalProperties: false, description: 'Microsoft Graph push instead of (or beside) the IMAP sweep: subscriptions to Inbox and Junk Email, a delta query per folder as the fallback. The app needs Mail.Read (application). See docs/providers.md.' })

export const AfterProcessing = Type.Union([Type.Literal('leave'), Type.Literal('seen'), Type.Literal('move')], {
  description: 'What the IMAP sweep does with a message once it is stored and decided: leave it (default; the sweep never changes the mailbox), flag it \\Seen, or move it to processedFolder (refused mail to rejectedFolder when set).'
})

export const ImapInput = Type.Object({
  host: Host,
  port: Type.Optional({ ...Port, description: 'Default 993.' }),
  tls: Type.Optional(Type.Boolean({ description: 'true (default): TLS from the start (port 993); false: plain, upgraded with STARTTLS when offered.' })),
  user: Type.String({ minLength: 1 }),
  password: Type.Optional(Type.String({ minLength: 1, description: 'Write-only. An app password for Gmail, Yandex and Mail.ru. On update, omit it to keep the stored one.' })),
  auth: Type.Optional(ImapAuthInput),
  folders: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Folders to sweep besides INBOX and the \\Junk folder (default none).' })),
  afterProcessing: Type.Optional(AfterProcessing),
  processedFolder: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'afterProcessing move: the folder handled mail goes to, created when missing. Default "Processed".' })),
  rejectedFolder: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'afterProcessing move: the folder refused mail (rejected, ignored) goes to; null or absent: processedFolder.' })))
}, { additionalProperties: false })

export const SmtpInput = Type.Object({
  host: Host,
  port: Type.Optional({ ...Port, description: 'Default 465.' }),
  tls: Type.Optional(Type.Boolean({ description: 'true (default): TLS from the start (port 465); false: STARTTLS when offered (port 587).' })),
  user: Type.Optional(Nullable(Type.String())),
  password: Type.Optional(Type.String({ minLength: 1, description: 'Write-only. On update, omit it to keep the stored one.' })),
  auth: Type.Optional(SmtpAuthInput),
  fromName: Type.Optional(Nullable(Type.String({ maxLength: 200 })))
}, { additionalProperties: false })

export const SendgridBasicAuth = Type.Object({
  username: Type.String({ minLength: 1 }),
  password: Type.String({ minLength: 1, description: 'Write-only.' })
}, { additionalProperties: false })

export const CanaryInput = Type.Object({
  intervalMinutes: Type.Integer({ minimum: 5, maximum: 1440, description: 'How often mailrun sends the mailbox a test email through its own SMTP route.' }),
  deadlineSeconds: Type.Integer({ minimum: 30, maximum: 3600, description: 'How long a door (push or the IMAP sweep) has to find it before it counts as missed (canary.missed).' })
}, { additionalProperties: false, description: 'The canary: proof that mail to this mailbox still reaches mailrun. Canary emails never launch anything and are never answered. null: none.' })

const CanaryStatus = Type.Object({
  lastSentAt: Nullable(Timestamp),
  state: Nullable(Type.Union([Type.Literal('sent'), Type.Literal('detected'), Type.Literal('missed')], { description: 'sent: waiting to be found; detected: found in time (or late); missed: not found by the deadline.' })),
  detectedAt: Nullable(Timestamp),
  detectionSeconds: Nullable(Type.Number({ description: 'From sending to finding.' })),
  door: Nullable(Type.String({ description: 'The door that found it (imap, mime, smtp, graph, …).' }))
})

const mailboxFields = {
  address: Type.String({ format: 'idn-email', maxLength: 254, description: 'The service mailbox senders write to. Unique across the instance.' }),
  active: Type.Boolean({ default: true }),
  senderAuth: SenderAuth,
  trustedAuthservId: Nullable(Type.String({ maxLength: 253, description: 'With senderAuth provider: the authserv-id whose Authentication-Results header is trusted (IMAP mail).' })),
  mailgunSigningKey: Nullable(Type.String({ minLength: 1, description: 'Write-only. The Mailgun HTTP webhook signing key.' })),
  sendgridBasicAuth: Nullable(SendgridBasicAuth),
  imap: Nullable(ImapInput),
  smtp: Nullable(SmtpInput),
  graph: Nullable(GraphInput),
  canary: Nullable(CanaryInput)
}

const createExample = {
  address: 'robots@acme.example',
  senderAuth: 'dmarc',
  mailgunSigningKey: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
  imap: { host: 'imap.gmail.com', port: 993, tls: true, user: 'robots@acme.example', password: 'abcd efgh ijkl mnop', folders: [] },
  smtp: { host: 'smtp.gmail.com', port: 465, tls: true, user: 'robots@acme.example', password: 'abcd efgh ijkl mnop', fromName: 'Acme robots' }
}

export const MailboxCreate = Type.Object({
  address: mailboxFields.address,
  active: Type.Optional(mailboxFields.active),
  senderAuth: Type.Optional({ ...SenderAuth, default: 'dmarc' }),
  trustedAuthservId: Type.Optional(mailboxFields.trustedAuthservId),
  mailgunSigningKey: Type.Optional(mailboxFields.mailgunSigningKey),
  sendgridBasicAuth: Type.Optional(mailboxFields.sendgridBasicAuth),
  imap: Type.Optional(mailboxFields.imap),
  smtp: Type.Optional(mailboxFields.smtp),
  graph: Type.Optional(mailboxFields.graph),
  canary: Type.Optional(mailboxFields.canary)
}, { additionalProperties: false, examples: [createExample] })

export const MailboxPatch = Type.Partial(Type.Object(mailboxFields), {
  additionalProperties: false, minProperties: 1, examples: [{ senderAuth: 'provider', imap: { host: 'imap.yandex.ru', user: 'robots@acme.example', password: 'app-password' } }]
})

export const IngressUrls = Type.Object({
  mime: Type.String({ description: 'Raw RFC 822 (an MTA pipe, or any provider that posts raw MIME).' }),
  mailgun: Type.String({ description: 'Mailgun route forward() target; append "mime" is not needed: both forms are accepted.' }),
  sendgrid: Type.String({ description: 'SendGrid Inbound Parse destination URL.' })
})

const mailboxExample = {
  id: '9f5b3c1a-7d2e-4b8f-a6c4-1e2d3f4a5b6c',
  address: 'robots@acme.example',
  active: true,
  senderAuth: 'dmarc',
  trustedAuthservId: null,
  mailgunSigningKey: { set: true },
  sendgridBasicAuth: null,
  imap: { host: 'outlook.office365.com', port: 993, tls: true, user: 'robots@acme.example', password: { set: false }, auth: { kind: 'microsoft', tenantId: 'acme.onmicrosoft.com', clientId: '00001111-aaaa-2222-bbbb-3333cccc4444', authority: 'https://login.microsoftonline.com', clientSecret: { set: true }, certificate: null }, folders: [] },
  imapStatus: { configuredAt: '2026-11-23T10:00:00.000Z', lastSweptAt: null, lastError: null, lastErrorAt: null },
  smtp: { host: 'smtp.office365.com', port: 587, tls: false, user: 'robots@acme.example', password: { set: false }, auth: { kind: 'same_as_imap' }, fromName: 'Acme robots' },
  graph: null,
  graphStatus: { configuredAt: null, lastSyncedAt: null, lastError: null, lastErrorAt: null },
  canary: { intervalMinutes: 15, deadlineSeconds: 300 },
  canaryStatus: { lastSentAt: '2026-11-23T10:15:00.000Z', state: 'detected', detectedAt: '2026-11-23T10:15:04.200Z', detectionSeconds: 4.2, door: 'imap' },
  warnings: [],
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z'
}

export const Mailbox = Type.Object({
  id: Uuid,
  address: Type.String(),
  active: Type.Boolean(),
  senderAuth: SenderAuth,
  trustedAuthservId: Nullable(Type.String()),
  mailgunSigningKey: SecretMarker,
  sendgridBasicAuth: Nullable(Type.Object({ username: Type.String(), password: SecretMarker })),
  imap: Nullable(Type.Object({ host: Type.String(), port: Port, tls: Type.Boolean(), user: Type.String(), password: SecretMarker, auth: MailAuthView, folders: Type.Array(Type.String()), afterProcessing: AfterProcessing, processedFolder: Nullable(Type.String()), rejectedFolder: Nullable(Type.String()) })),
  imapStatus: Type.Object({ configuredAt: Nullable(Timestamp), lastSweptAt: Nullable(Timestamp), lastError: Nullable(Type.String()), lastErrorAt: Nullable(Timestamp) }),
  smtp: Nullable(Type.Object({ host: Type.String(), port: Port, tls: Type.Boolean(), user: Nullable(Type.String()), password: SecretMarker, auth: MailAuthView, fromName: Nullable(Type.String()) })),
  graph: Nullable(Type.Object({ user: Type.String(), baseUrl: Type.String(), auth: MailAuthView })),
  graphStatus: Type.Object({ configuredAt: Nullable(Timestamp), lastSyncedAt: Nullable(Timestamp), lastError: Nullable(Type.String()), lastErrorAt: Nullable(Timestamp) }),
  canary: Nullable(CanaryInput),
  canaryStatus: CanaryStatus,
  warnings: Type.Array(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [mailboxExample] })

export const MailboxWithIngress = Type.Object({
  ...Mailbox.properties,
  ingressToken: Type.String({ description: 'Secret: part of the ingress URLs. Shown only on create and rotate.' }),
  ingressUrls: IngressUrls
}, {
  examples: [{
    ...mailboxExample,
    ingressToken: 'q9XbV1c2...',
    ingressUrls: { mime: 'https://mailrun.acme.example/inbound/q9XbV1c2.../mime', mailgun: 'https://mailrun.acme.example/inbound/q9XbV1c2.../mailgun', sendgrid: 'https://mailrun.acme.example/inbound/q9XbV1c2.../sendgrid' }
  }]
})

export const MailboxCheck = Type.Object({
  ok: Type.Boolean({ description: 'Every step passed.' }),
  steps: Type.Array(Type.Object({
    step: Type.String({ description: 'imap token, imap login, smtp token, smtp login; imap or smtp when not configured.' }),
    ok: Type.Boolean(),
    detail: Type.String({ description: 'What happened, in the server\'s own words on failure, and what to check.' })
  }))
}, {
  examples: [{
    ok: false,
    steps: [
      { step: 'imap token', ok: true, detail: 'access token issued for robots@acme.example by https://login.microsoftonline.com/acme.onmicrosoft.com/oauth2/v2.0/token' },
      { step: 'imap login', ok: false, detail: 'AUTHENTICATE failed. The token was issued but the server refused it: check that the application may open this mailbox (docs/providers.md).' },
      { step: 'smtp token', ok: true, detail: 'access token issued for robots@acme.example by https://login.microsoftonline.com/acme.onmicrosoft.com/oauth2/v2.0/token' },
      { step: 'smtp login', ok: true, detail: 'smtp.office365.com:587 accepted the connection and the login of robots@acme.example' }
    ]
  }]
})
