import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ProviderVerdict } from '../pipeline/authenticate-sender.js'
import type { InboundMail } from '../pipeline/inbound-mail.js'
import type { FormFields } from './form-fields.js'
import { rebuildMessage } from './rebuild-message.js'

// Mailgun route forward(): parsed fields, or the raw message in body-mime when the route URL
// asks for MIME. The signature covers only timestamp + token, never the body.

export type SignatureCheck = { ok: true, token: string, timestamp: number } | { ok: false, reason: string }

export function verifyMailgunSignature (fields: FormFields, signingKey: string, maxAgeSeconds: number, now = Date.now()): SignatureCheck {
  const timestamp = fields.text('timestamp') ?? ''
  const token = fields.text('token') ?? ''
  const signature = fields.text('signature') ?? ''
  if (timestamp === '' || token === '' || signature === '') return { ok: false, reason: 'the post has no Mailgun signature (timestamp, token and signature fields)' }
  const expected = createHmac('sha256', signingKey).update(timestamp + token).digest()
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'the Mailgun signature does not match this mailbox signing key' }
  const seconds = Number(timestamp)
  const age = now / 1000 - seconds
  // A little future skew is tolerated; the past covers Mailgun's 8-hour retry schedule.
  if (!Number.isFinite(seconds) || age > maxAgeSeconds || age < -300) return { ok: false, reason: `the Mailgun timestamp is outside the accepted window (${maxAgeSeconds} s)` }
  return { ok: true, token, timestamp: seconds }
}

function messageHeaders (fields: FormFields): Array<[string, string]> {
  try {
    const parsed = JSON.parse(fields.text('message-headers') ?? '[]') as unknown
    return Array.isArray(parsed) ? parsed.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string') : []
  } catch {
    return []
  }
}

function verdict (fields: FormFields, headers: Array<[string, string]>): ProviderVerdict {
  const find = (name: string): string | null =>
    fields.text(name) ?? headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? null
  return { provider: 'mailgun', spf: find('X-Mailgun-Spf'), dkim: find('X-Mailgun-Dkim-Check-Result'), dkimDomains: [] }
}

export function mailgunToInbound (fields: FormFields): InboundMail {
  const headers = messageHeaders(fields)
  const envelopeFrom = fields.text('sender') ?? null
  const raw = fields.bytes('body-mime')
  if (raw !== undefined && raw.length > 0) {
    return { door: 'mailgun', raw, rawIsOriginal: true, envelopeFrom, provider: verdict(fields, headers) }
  }
  const text = fields.text('body-plain')
  const html = fields.text('body-html')
  const rebuilt = rebuildMessage(headers.length > 0 ? headers : [['From', fields.text('from') ?? ''], ['Subject', fields.text('subject') ?? ''], ['Message-Id', fields.text('Message-Id') ?? '']].filter(([, v]) => v !== '') as Array<[string, string]>, {
    ...(text !== undefined ? { text } : {}),
    ...(html !== undefined ? { html } : {})
  })
  return { door: 'mailgun', raw: rebuilt, rawIsOriginal: false, envelopeFrom, provider: verdict(fields, headers) }
}
