import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import type { Static } from '@sinclair/typebox'
import type { MailAuth, SealedOAuthSecret } from '../db/schema.js'
import { fieldError } from '../errors.js'
import { marker } from '../schemas/common.js'
import type { ImapInput, MailAuthView, SmtpInput } from '../schemas/mailboxes.js'

// The sign-in part of a mailbox's IMAP or SMTP settings: what the API body says, checked as far as
// it can be without asking the provider (keys parse, a certificate matches its key, hosts are
// allowed), turned into stored settings and one sealed secret; and back into what the API shows.

export const MICROSOFT_AUTHORITY = 'https://login.microsoftonline.com'
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token'

type Field = 'imap' | 'smtp' | 'graph'
type Body = Pick<Static<typeof ImapInput>, 'password'> & { auth?: Static<typeof SmtpInput>['auth'], user?: string | null }

export interface StoredSignIn { auth: MailAuth, secretEnc: string | null }

export interface SignInDeps {
  seal: (value: string) => string
  open: (sealed: string) => string
  /** Refuses a URL whose host the outbound deny list forbids, as a 400 on `field`. */
  checkUrl: (field: string, url: string) => Promise<void>
}

function privateKeyFrom (field: string, pem: string): KeyObject {
  try {
    const key = createPrivateKey(pem)
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA')
    return key
  } catch {
    throw fieldError(field, 'is not an unencrypted RSA private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)')
  }
}

function microsoftCertificate (field: string, input: { certificate: string, privateKey: string }): { x5t: string, thumbprint: string } {
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(input.certificate)
  } catch {
    throw fieldError(`${field}.certificate`, 'is not an X.509 certificate in PEM (-----BEGIN CERTIFICATE-----)')
  }
  const key = privateKeyFrom(`${field}.privateKey`, input.privateKey)
  if (!certificate.checkPrivateKey(key)) throw fieldError(`${field}.privateKey`, 'does not belong to the certificate')
  const sha1 = createHash('sha1').update(certificate.raw).digest()
  // x5t is what the identity platform matches against the certificates uploaded to the app.
  return { x5t: sha1.toString('base64url'), thumbprint: sha1.toString('hex').toUpperCase() }
}

interface ServiceAccountKey { clientEmail: string, privateKey: string, privateKeyId: string | null, tokenUri: string }

function serviceAccountKey (field: string, text: string): ServiceAccountKey {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw fieldError(field, 'is not JSON: paste the whole key file the Google Cloud console downloaded')
  }
  if (typeof json !== 'object' || json === null || json.type !== 'service_account') throw fieldError(field, 'is not a service account key ("type": "service_account")')
  if (typeof json.client_email !== 'string' || json.client_email === '') throw fieldError(field, 'has no client_email')
  if (typeof json.private_key !== 'string') throw fieldError(field, 'has no private_key')
  privateKeyFrom(`${field}.private_key`, json.private_key)
  return {
    clientEmail: json.client_email,
    privateKey: json.private_key,
    privateKeyId: typeof json.private_key_id === 'string' ? json.private_key_id : null,
    tokenUri: typeof json.token_uri === 'string' && json.token_uri !== '' ? json.token_uri : GOOGLE_TOKEN_URI
  }
}

/**
 * The stored sign-in for a body's settings. `current` is what is stored now (null on create or
 * when the settings were cleared): with `auth` left out the current kind stays, and a secret left
 * out stays as stored when the kind does not change.
 */
export async function signInFrom (field: Field, body: Body, current: StoredSignIn | null, deps: SignInDeps): Promise<StoredSignIn> {
  const requested = body.auth
  const kind = requested?.kind ?? current?.auth.kind ?? 'password'
  const sameKind = current !== null && current.auth.kind === kind
  if (kind !== 'password' && body.password !== undefined) {
    throw fieldError(`${field}.password`, `is not used when signing in with ${kind}${requested === undefined ? ' (the current kind; send auth {"kind": "password"} to switch)' : ''}: leave it out`)
  }
  if (kind === 'password') {
    const secretEnc = body.password !== undefined ? deps.seal(body.password) : sameKind ? current.secretEnc : null
    return { auth: { kind: 'password' }, secretEnc }
  }
  if (kind !== 'same_as_imap' && (body.user === null || body.user === undefined)) throw fieldError(`${field}.user`, `is required when signing in with ${kind}: the mailbox's address`)
  // Settings sent without auth keep the stored sign-in whole.
  if (requested === undefined || requested.kind === 'password') return current as StoredSignIn
  const sealJson = (secret: SealedOAuthSecret): string => deps.seal(JSON.stringify(secret))
  switch (requested.kind) {
    case 'same_as_imap':
      if (field !== 'smtp') throw fieldError(`${field}.auth.kind`, 'same_as_imap is for smtp only')
      return { auth: { kind: 'same_as_imap' }, secretEnc: null }
    case 'microsoft': {
      const authority = (requested.authority ?? MICROSOFT_AUTHORITY).replace(/\/+$/, '')
      await deps.checkUrl(`${field}.auth.authority`, authority)
      if (requested.clientSecret !== undefined && requested.certificate !== undefined) throw fieldError(`${field}.auth`, 'takes clientSecret or certificate, not both')
      const base = { kind: 'microsoft' as const, tenantId: requested.tenantId, clientId: requested.clientId, authority }
      if (requested.certificate !== undefined) {
        const { x5t, thumbprint } = microsoftCertificate(`${field}.auth.certificate`, requested.certificate)
        return { auth: { ...base, x5t, thumbprint }, secretEnc: sealJson({ privateKey: requested.certificate.privateKey }) }
      }
      if (requested.clientSecret !== undefined) return { auth: { ...base, x5t: null, thumbprint: null }, secretEnc: sealJson({ clientSecret: requested.clientSecret }) }
      if (!sameKind || current.auth.kind !== 'microsoft') throw fieldError(`${field}.auth.clientSecret`, 'or certificate is required')
      return { auth: { ...base, x5t: current.auth.x5t, thumbprint: current.auth.thumbprint }, secretEnc: current.secretEnc }
    }
    case 'google': {
      if (requested.serviceAccountKey === undefined) {
        if (!sameKind) throw fieldError(`${field}.auth.serviceAccountKey`, 'is required')
        return current
      }
      const key = serviceAccountKey(`${field}.auth.serviceAccountKey`, requested.serviceAccountKey)
      await deps.checkUrl(`${field}.auth.serviceAccountKey.token_uri`, key.tokenUri)
      return { auth: { kind: 'google', clientEmail: key.clientEmail, tokenUri: key.tokenUri, privateKeyId: key.privateKeyId }, secretEnc: sealJson({ privateKey: key.privateKey }) }
    }
    case 'oauth_refresh': {
      await deps.checkUrl(`${field}.auth.tokenUrl`, requested.tokenUrl)
      // Omitted secrets are kept from the stored ones (only when the kind stays the same).
      const stored = sameKind && current.secretEnc !== null ? JSON.parse(deps.open(current.secretEnc)) as SealedOAuthSecret : {}
      const clientSecret = requested.clientSecret ?? stored.clientSecret
      const refreshToken = requested.refreshToken ?? stored.refreshToken
      if (refreshToken === undefined) throw fieldError(`${field}.auth.refreshToken`, 'is required')
      return {
        auth: { kind: 'oauth_refresh', tokenUrl: requested.tokenUrl, clientId: requested.clientId, scope: requested.scope ?? null, hasClientSecret: clientSecret !== undefined },
        secretEnc: sealJson({ ...(clientSecret !== undefined ? { clientSecret } : {}), refreshToken })
      }
    }
  }
}

/** What the API shows of a sign-in: its settings, and only whether each secret is set. */
export function signInView (auth: MailAuth | undefined, secretEnc: string | null): Static<typeof MailAuthView> {
  const set = marker(secretEnc)
  const a = auth ?? { kind: 'password' as const }
  switch (a.kind) {
    case 'password':
    case 'same_as_imap':
      return { kind: a.kind }
    case 'microsoft':
      return { kind: 'microsoft', tenantId: a.tenantId, clientId: a.clientId, authority: a.authority, clientSecret: marker(a.x5t === null ? secretEnc : null), certificate: a.thumbprint === null ? null : { thumbprint: a.thumbprint, privateKey: set } }
    case 'google':
      return { kind: 'google', clientEmail: a.clientEmail, tokenUri: a.tokenUri, serviceAccountKey: set }
    case 'oauth_refresh':
      return { kind: 'oauth_refresh', tokenUrl: a.tokenUrl, clientId: a.clientId, scope: a.scope, clientSecret: { set: a.hasClientSecret && secretEnc !== null }, refreshToken: set }
  }
}
