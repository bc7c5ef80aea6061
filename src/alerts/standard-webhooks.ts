import { createHmac, randomBytes } from 'node:crypto'

// The Standard Webhooks signature (standardwebhooks.com): `v1,` + base64 HMAC-SHA256, keyed with
// the base64 part of a `whsec_` secret, over `{webhook-id}.{webhook-timestamp}.{body}`. Receivers
// verify it with any of the specification's libraries.

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
