import { timingSafeEqual } from 'node:crypto'
import type { ProviderVerdict } from '../pipeline/authenticate-sender.js'
import type { InboundMail } from '../pipeline/inbound-mail.js'
import type { FormFields } from './form-fields.js'
import { headerPairs, rebuildMessage } from './rebuild-message.js'

// SendGrid Inbound Parse: parsed fields (headers, text, html, charsets, envelope, SPF, dkim) or,
// with "POST the raw, full MIME message", the message in the `email` field.

export function checkBasicAuth (header: string | undefined, username: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (match === null) return false
  const given = Buffer.from(match[1] as string, 'base64')
  const expected = Buffer.from(`${username}:${password}`, 'utf8')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** SendGrid's dkim field is not JSON: "{@example.com : pass, @other.org : fail}" or "none". */
export function parseSendgridDkim (value: string | undefined): Array<{ domain: string, result: string }> {
  if (value === undefined) return []
  return [...value.matchAll(/@([^\s:,{}]+)\s*:\s*([a-z]+)/gi)].map((m) => ({ domain: (m[1] as string).toLowerCase(), result: (m[2] as string).toLowerCase() }))
}

function envelopeFrom (fields: FormFields): string | null {
  try {
    const envelope = JSON.parse(fields.text('envelope') ?? '{}') as { from?: unknown }
    return typeof envelope.from === 'string' ? envelope.from : null
  } catch {
    return null
  }
}

export function sendgridToInbound (fields: FormFields): InboundMail {
  const provider: ProviderVerdict = { provider: 'sendgrid', spf: fields.text('SPF') ?? null, dkim: null, dkimDomains: parseSendgridDkim(fields.text('dkim')) }
  const raw = fields.bytes('email')
  if (raw !== undefined && raw.length > 0) return { door: 'sendgrid', raw, rawIsOriginal: true, envelopeFrom: envelopeFrom(fields), provider }
  let charsets: Record<string, string> = {}
  try { charsets = JSON.parse(fields.text('charsets') ?? '{}') as Record<string, string> } catch { charsets = {} }
  const text = fields.has('text') ? fields.text('text', charsets.text ?? 'utf-8') : undefined
  const html = fields.has('html') ? fields.text('html', charsets.html ?? 'utf-8') : undefined
  const headers = headerPairs(fields.bytes('headers')?.toString('latin1') ?? '')
  return {
    door: 'sendgrid',
    raw: rebuildMessage(headers, { ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}) }),
    rawIsOriginal: false,
    envelopeFrom: envelopeFrom(fields),
    provider
  }
}
