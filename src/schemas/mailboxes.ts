import { Type } from '@sinclair/typebox'
import { Nullable, SecretMarker, Timestamp, Uuid } from './common.js'

// Service mailboxes: where senders write, how mail reaches mailrun, how replies leave.

export const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/:@]+$|^\\[[0-9a-fA-F:]+\\]$' })
export const Port = Type.Integer({ minimum: 1, maximum: 65535 })
export const SenderAuth = Type.Union([Type.Literal('dmarc'), Type.Literal('provider'), Type.Literal('off')], {
  description: 'dmarc: DMARC pass or aligned DKIM pass (default). provider: trust the provider verdicts or the Authentication-Results of trustedAuthservId. off: allow-list only (not recommended).'
})

export const ImapInput = Type.Object({
  host: Host,
  port: Type.Optional({ ...Port, description: 'Default 993.' }),
  tls: Type.Optional(Type.Boolean({ description: 'true (default): TLS from the start (port 993); false: plain, upgraded with STARTTLS when offered.' })),
  user: Type.String({ minLength: 1 }),
  password: Type.Optional(Type.String({ minLength: 1, description: 'Write-only. An app password for Gmail, Yandex and Mail.ru. On update, omit it to keep the stored one.' })),
  folders: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Folders to sweep besides INBOX and the \\Junk folder (default none).' }))
}, { additionalProperties: false })

export const SmtpInput = Type.Object({
  host: Host,
  port: Type.Optional({ ...Port, description: 'Default 465.' }),
  tls: Type.Optional(Type.Boolean({ description: 'true (default): TLS from the start (port 465); false: STARTTLS when offered (port 587).' })),
  user: Type.Optional(Nullable(Type.String())),
  password: Type.Optional(Type.String({ minLength: 1, description: 'Write-only. On update, omit it to keep the stored one.' })),
  fromName: Type.Optional(Nullable(Type.String({ maxLength: 200 })))
}, { additionalProperties: false })

export const SendgridBasicAuth = Type.Object({
  username: Type.String({ minLength: 1 }),
  password: Type.String({ minLength: 1, description: 'Write-only.' })
}, { additionalProperties: false })

const mailboxFields = {
  address: Type.String({ format: 'idn-email', maxLength: 254, description: 'The service mailbox senders write to. Unique across the instance.' }),
  active: Type.Boolean({ default: true }),
  senderAuth: SenderAuth,
  trustedAuthservId: Nullable(Type.String({ maxLength: 253, description: 'With senderAuth provider: the authserv-id whose Authentication-Results header is trusted (IMAP mail).' })),
  mailgunSigningKey: Nullable(Type.String({ minLength: 1, description: 'Write-only. The Mailgun HTTP webhook signing key.' })),
  sendgridBasicAuth: Nullable(SendgridBasicAuth),
  imap: Nullable(ImapInput),
  smtp: Nullable(SmtpInput)
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
  smtp: Type.Optional(mailboxFields.smtp)
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
  imap: { host: 'imap.gmail.com', port: 993, tls: true, user: 'robots@acme.example', password: { set: true }, folders: [] },
  imapStatus: { configuredAt: '2026-11-23T10:00:00.000Z', lastSweptAt: null, lastError: null, lastErrorAt: null },
  smtp: { host: 'smtp.gmail.com', port: 465, tls: true, user: 'robots@acme.example', password: { set: true }, fromName: 'Acme robots' },
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
  imap: Nullable(Type.Object({ host: Type.String(), port: Port, tls: Type.Boolean(), user: Type.String(), password: SecretMarker, folders: Type.Array(Type.String()) })),
  imapStatus: Type.Object({ configuredAt: Nullable(Timestamp), lastSweptAt: Nullable(Timestamp), lastError: Nullable(Type.String()), lastErrorAt: Nullable(Timestamp) }),
  smtp: Nullable(Type.Object({ host: Type.String(), port: Port, tls: Type.Boolean(), user: Nullable(Type.String()), password: SecretMarker, fromName: Nullable(Type.String()) })),
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
