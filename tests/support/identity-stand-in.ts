import { createHash, createPublicKey, createVerify, randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// A local stand-in for the OAuth2 token endpoints mail providers run, checking each request as
// the real ones document, answering their error shapes:
// - the Microsoft identity platform v2.0 client-credentials endpoint (/{tenant}/oauth2/v2.0/token),
//   with a client secret or a certificate assertion (RFC 7523, x5t header);
// - Google's OAuth2 token endpoint for service accounts (/token, the JWT-bearer grant);
// - a generic refresh-token endpoint (/oauth/token) that rotates refresh tokens when told to.
// It is also the authorization server the IMAP and SMTP test servers ask about a token
// (/introspect, RFC 7662): a token is good for the mailboxes its grant reaches and until it expires.

export const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default'
export const GMAIL_SCOPE = 'https://mail.google.com/'

export interface MicrosoftApp {
  tenant: string
  clientId: string
  secret?: string
  /** PEM of a certificate uploaded to the app. */
  certificate?: string
  /** Mailboxes the app was granted (the Exchange service principal's mailbox permission). */
  mailboxes: string[]
}

export interface ServiceAccount {
  clientEmail: string
  keyId: string
  /** PEM of the public key (the real endpoint looks the key id up). */
  publicKey: string
  /** Domain-wide delegation: the scopes granted to the service account's client id. */
  delegatedScopes: string[]
}

export interface RefreshClient { clientId: string, secret?: string, rotate: boolean }

interface Issued { token: string, mailboxes: string[] | 'subject', subject: string | null, expiresAt: number, scope: string }

export interface IdentityStandIn {
  url: string
  microsoft: MicrosoftApp[]
  google: { accounts: ServiceAccount[], users: string[] }
  refresh: { clients: RefreshClient[], tokens: Map<string, { clientId: string, user: string }> }
  /** Every request to a token endpoint, as received (form fields), for assertions. */
  requests: Array<{ path: string, form: Record<string, string> }>
  /** Lifetime of the tokens it issues, in seconds. */
  lifetimeS: number
  /** Scopes the Microsoft endpoint issues tokens for (Exchange's; a test adds its Graph stand-in's). */
  microsoftScopes: string[]
  /** Answers whether `token` opens `user`'s mailbox now (and was issued for `scope`, when given). */
  allows: (token: string, user: string, scope?: string) => boolean
  /** Whether `token` is one it issued for `scope` and not expired (whoever it is for). */
  valid: (token: string, scope: string) => boolean
  /** Refuses every token issued so far (as a revocation or a password reset does). */
  revokeAll: () => void
  close: () => Promise<void>
}

const b64json = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>

/** Verifies an RS256 JWT with `key`; answers header and claims, or null for a bad signature. */
function verifyJwt (jwt: string, key: string): { header: Record<string, unknown>, claims: Record<string, unknown> } | null {
  const [h, c, s] = jwt.split('.')
  if (h === undefined || c === undefined || s === undefined) return null
  try {
    const ok = createVerify('RSA-SHA256').update(`${h}.${c}`).verify(createPublicKey(key), Buffer.from(s, 'base64url'))
    return ok ? { header: b64json(h), claims: b64json(c) } : null
  } catch {
    return null
  }
}

const now = (): number => Math.floor(Date.now() / 1000)

export async function startIdentityStandIn (): Promise<IdentityStandIn> {
  const issued = new Map<string, Issued>()
  const requests: IdentityStandIn['requests'] = []
  const state: IdentityStandIn = {
    url: '',
    microsoft: [],
    google: { accounts: [], users: [] },
    refresh: { clients: [], tokens: new Map() },
    requests,
    lifetimeS: 3599,
    microsoftScopes: [EXCHANGE_SCOPE],
    allows (token, user, scope) {
      const t = issued.get(token)
      if (t === undefined || t.expiresAt <= Date.now()) return false
      if (scope !== undefined && t.scope !== scope) return false
      return t.mailboxes === 'subject' ? t.subject?.toLowerCase() === user.toLowerCase() : t.mailboxes.some((m) => m.toLowerCase() === user.toLowerCase())
    },
    valid (token, scope) {
      const t = issued.get(token)
      return t !== undefined && t.expiresAt > Date.now() && t.scope === scope
    },
    revokeAll () { issued.clear() },
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }

  const ownerOf = (token: string): string | null => {
    const t = issued.get(token)
    if (t === undefined || t.expiresAt <= Date.now()) return null
    return t.mailboxes === 'subject' ? t.subject : t.mailboxes[0] ?? null
  }

  const issue = (mailboxes: Issued['mailboxes'], subject: string | null, scope: string): string => {
    const token = `stand-in.${randomBytes(24).toString('base64url')}`
    issued.set(token, { token, mailboxes, subject, expiresAt: Date.now() + state.lifetimeS * 1000, scope })
    return token
  }

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache' })
    res.end(JSON.stringify(body))
  }

  /** The Microsoft identity platform's error body: AADSTS code in the description, trace ids. */
  const aadError = (res: ServerResponse, status: number, error: string, code: number, text: string): void => {
    const traceId = randomUUID()
    const correlationId = randomUUID()
    const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
    send(res, status, {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`.replace(/ Trace ID/, '\r\nTrace ID').replace(/ Correlation ID/, '\r\nCorrelation ID').replace(/ Timestamp/, '\r\nTimestamp'),
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${state.url}/error?code=${code}`
    })
  }

  function microsoft (tenant: string, form: Record<string, string>, res: ServerResponse, tokenUrl: string): void {
    if (form.grant_type !== 'client_credentials') { aadError(res, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.grant_type ?? ''}'.`); return }
    const apps = state.microsoft.filter((a) => a.tenant === tenant)
    if (apps.length === 0) { aadError(res, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`); return }
    if (!state.microsoftScopes.includes(form.scope ?? '')) { aadError(res, 400, 'invalid_scope', 1002012, `The provided value for scope ${form.scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`); return }
    const app = apps.find((a) => a.clientId === form.client_id)
    if (app === undefined) { aadError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${form.client_id ?? ''}' was not found in the directory '${tenant}'.`); return }
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') { aadError(res, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.'); return }
      const certificate = app.certificate !== undefined ? new X509Certificate(app.certificate) : null
      const verified = certificate === null ? null : verifyJwt(form.client_assertion, certificate.publicKey.export({ type: 'spki', format: 'pem' }) as string)
      const x5t = certificate === null ? null : createHash('sha1').update(certificate.raw).digest('base64url')
      if (verified === null || verified.header.x5t !== x5t) { aadError(res, 401, 'invalid_client', 700027, 'The certificate with identifier used to sign the client assertion is not registered on application. Client assertion failed signature validation.'); return }
      const { claims } = verified
      if (claims.aud !== tokenUrl) { aadError(res, 401, 'invalid_client', 700021, 'Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .'); return }
      if (claims.iss !== app.clientId || claims.sub !== app.clientId) { aadError(res, 401, 'invalid_client', 700023, 'Client assertion issuer and subject must be the client id.'); return }
      if (typeof claims.exp !== 'number' || claims.exp < now() || (typeof claims.nbf === 'number' && claims.nbf > now() + 300)) { aadError(res, 401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'); return }
    } else if (app.secret === undefined || form.client_secret !== app.secret) {
      aadError(res, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`)
      return
    }
    send(res, 200, { token_type: 'Bearer', expires_in: state.lifetimeS, ext_expires_in: state.lifetimeS, access_token: issue(app.mailboxes, null, form.scope ?? '') })
  }

  function google (form: Record<string, string>, res: ServerResponse, tokenUrl: string): void {
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') { send(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${form.grant_type ?? ''}` }); return }
    const assertion = form.assertion ?? ''
    const [h, c] = assertion.split('.')
    let claims: Record<string, unknown>
    try { claims = b64json(c ?? ''); b64json(h ?? '') } catch { send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: Malformed.' }); return }
    const account = state.google.accounts.find((a) => a.clientEmail === claims.iss)
    if (account === undefined) { send(res, 400, { error: 'invalid_grant', error_description: 'Invalid grant: account not found' }); return }
    const verified = verifyJwt(assertion, account.publicKey)
    if (verified === null || (verified.header.kid !== undefined && verified.header.kid !== account.keyId)) { send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }); return }
    const iat = claims.iat
    const exp = claims.exp
    if (claims.aud !== tokenUrl || typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || exp < now() || iat > now() + 300) {
      send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.' })
      return
    }
    const scopes = String(claims.scope ?? '').split(' ')
    if (scopes.some((s) => !account.delegatedScopes.includes(s))) {
      send(res, 401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' })
      return
    }
    const sub = typeof claims.sub === 'string' ? claims.sub : null
    if (sub === null || !state.google.users.includes(sub)) { send(res, 400, { error: 'invalid_grant', error_description: 'Invalid email or User ID' }); return }
    send(res, 200, { access_token: issue('subject', sub, GMAIL_SCOPE), expires_in: state.lifetimeS, token_type: 'Bearer' })
  }

  function refresh (form: Record<string, string>, res: ServerResponse): void {
    if (form.grant_type !== 'refresh_token') { send(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${form.grant_type ?? ''}` }); return }
    const client = state.refresh.clients.find((c) => c.clientId === form.client_id)
    if (client === undefined || (client.secret !== undefined && client.secret !== form.client_secret)) { send(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' }); return }
    const grant = state.refresh.tokens.get(form.refresh_token ?? '')
    if (grant === undefined || grant.clientId !== client.clientId) { send(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }); return }
    let rotated: string | undefined
    if (client.rotate) {
      // The old refresh token stops working the moment a new one is handed out.
      state.refresh.tokens.delete(form.refresh_token ?? '')
      rotated = `refresh.${randomBytes(16).toString('base64url')}`
      state.refresh.tokens.set(rotated, grant)
    }
    send(res, 200, { access_token: issue('subject', grant.user, form.scope ?? ''), expires_in: state.lifetimeS, token_type: 'Bearer', ...(rotated !== undefined ? { refresh_token: rotated } : {}) })
  }

  async function readForm (req: IncomingMessage): Promise<Record<string, string>> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
  }

  const server = createServer((req, res) => {
    readForm(req).then((form) => {
      const url = new URL(req.url ?? '/', state.url)
      const tokenUrl = `${state.url}${url.pathname}`
      if (url.pathname === '/introspect') {
        // The IMAP server asks whose token this is (bearer, as a userinfo endpoint): the mailbox
        // it opens. An app token names the first mailbox its grant reaches.
        const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? form.token ?? ''
        const owner = ownerOf(token)
        send(res, owner !== null ? 200 : 401, owner !== null ? { active: true, username: owner, scope: 'mail' } : { active: false })
        return
      }
      if (req.method !== 'POST') { send(res, 405, { error: 'invalid_request', error_description: 'POST only' }); return }
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) { send(res, 400, { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded.' }); return }
      requests.push({ path: url.pathname, form })
      const ms = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname)
      if (ms !== null) { microsoft(decodeURIComponent(ms[1] ?? ''), form, res, tokenUrl); return }
      if (url.pathname === '/token') { google(form, res, tokenUrl); return }
      if (url.pathname === '/oauth/token') { refresh(form, res); return }
      send(res, 404, { error: 'not_found' })
    }).catch(() => { res.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}
