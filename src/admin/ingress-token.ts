import { createHash, randomBytes } from 'node:crypto'

/** A mailbox's ingress token: secret in the URL the provider posts to; only its hash is stored. */
export function newIngressToken (): { token: string, hash: string } {
  const token = randomBytes(24).toString('base64url')
  return { token, hash: hashIngressToken(token) }
}

export function hashIngressToken (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export function ingressUrls (publicUrl: string, token: string): { mime: string, mailgun: string, sendgrid: string } {
  const base = `${publicUrl}/inbound/${token}`
  return { mime: `${base}/mime`, mailgun: `${base}/mailgun`, sendgrid: `${base}/sendgrid` }
}
