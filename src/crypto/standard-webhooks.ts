import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// The Standard Webhooks signature (standardwebhooks.com): `v1,` + base64 HMAC-SHA256, keyed with
// the base64 part of a `whsec_` secret, over `{webhook-id}.{webhook-timestamp}.{body}`. Receivers
// verify it with any of the specification's libraries; mailrun verifies the callbacks it receives the same way.

export const SECRET_PREFIX = 'whsec_'

/** A new signing secret: 24 random bytes, as the specification's libraries make them. */
export function newSigningSecret (): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`
}

export function isSigningSecret (value: string): boolean {
  if (!value.startsWith(SECRET_PREFIX)) return false
  const key = value.slice(SECRET_PREFIX.length)
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 24 && Buffer.from(key, 'base64').length <= 64
}

/** The webhook-signature header's value for one attempt. */
export function signWebhook (secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`
}

/** The three headers of a signed delivery; `id` stays the same on every retry. */
export function webhookHeaders (secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000)
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, id, timestamp, body) }
}

/** How far a signed request's timestamp may be from now: the specification's libraries allow five minutes. */
export const TOLERANCE_S = 5 * 60

export type Verdict = { ok: true, id: string } | { ok: false, reason: string }

/**
 * Checks a signed request as the specification's libraries do: the three headers present, the
 * timestamp within five minutes (a replayed capture is refused), and one of the space-separated
 * `v1,` signatures matching, compared in constant time.
 */
export function verifyWebhook (secret: string, headers: Record<string, string | string[] | undefined>, body: Buffer | string, now = Date.now()): Verdict {
  const one = (name: string): string | undefined => { const v = headers[name]; return Array.isArray(v) ? v[0] : v }
  const id = one('webhook-id')
  const timestamp = one('webhook-timestamp')
  const signatures = one('webhook-signature')
  if (id === undefined || timestamp === undefined || signatures === undefined) return { ok: false, reason: 'the webhook-id, webhook-timestamp and webhook-signature headers are required' }
  const seconds = Number(timestamp)
  if (!/^[0-9]{1,12}$/.test(timestamp) || Math.abs(now / 1000 - seconds) > TOLERANCE_S) return { ok: false, reason: 'the webhook-timestamp is more than 5 minutes from now: send it signed anew' }
  const expected = Buffer.from(signWebhook(secret, id, seconds, Buffer.isBuffer(body) ? body.toString('utf8') : body).slice(3), 'base64')
  const matches = signatures.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false
    const given = Buffer.from(s.slice(3), 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  return matches ? { ok: true, id } : { ok: false, reason: 'no webhook-signature matches the connection\'s signing secret' }
}
