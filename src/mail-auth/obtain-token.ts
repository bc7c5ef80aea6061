import { randomUUID } from 'node:crypto'
import type { MailAuth, SealedOAuthSecret } from '../db/schema.js'
import { signJwt } from './jwt.js'
import { requestToken, type TokenAnswer, type TokenHttp } from './token-endpoint.js'

// What each OAuth2 kind sends to its token endpoint. The scopes are the ones IMAP and SMTP
// accept: Exchange Online's resource for app-only IMAP/SMTP, Google's full-mail scope (the only
// one Gmail's IMAP and SMTP take).

export const MICROSOFT_SCOPE = 'https://outlook.office365.com/.default'
export const GOOGLE_SCOPE = 'https://mail.google.com/'
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

export type OAuthKind = Exclude<MailAuth, { kind: 'password' } | { kind: 'same_as_imap' }>

export function microsoftTokenUrl (auth: { authority: string, tenantId: string }): string {
  return `${auth.authority.replace(/\/+$/, '')}/${encodeURIComponent(auth.tenantId)}/oauth2/v2.0/token`
}

export function tokenUrlOf (auth: OAuthKind): string {
  switch (auth.kind) {
    case 'microsoft': return microsoftTokenUrl(auth)
    case 'google': return auth.tokenUri
    case 'oauth_refresh': return auth.tokenUrl
  }
}

/** The resource a Graph token is for: Graph's own origin (graph.microsoft.com, or a national cloud's). */
export function graphScope (baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`
}

/** One token request for `user`'s mailbox; `now` in ms. `scope` replaces Microsoft's IMAP/SMTP scope (Graph). */
export async function obtainToken (http: TokenHttp, auth: OAuthKind, secret: SealedOAuthSecret, user: string, now: number, scope?: string): Promise<TokenAnswer> {
  const seconds = Math.floor(now / 1000)
  switch (auth.kind) {
    case 'microsoft': {
      const url = microsoftTokenUrl(auth)
      const form: Record<string, string> = { client_id: auth.clientId, scope: scope ?? MICROSOFT_SCOPE, grant_type: 'client_credentials' }
      if (secret.privateKey !== undefined && auth.x5t !== null) {
        // A certificate credential: the assertion is addressed to the token endpoint itself.
        form.client_assertion_type = JWT_BEARER_ASSERTION
        form.client_assertion = signJwt({ x5t: auth.x5t }, { aud: url, iss: auth.clientId, sub: auth.clientId, jti: randomUUID(), nbf: seconds, iat: seconds, exp: seconds + 600 }, secret.privateKey)
      } else {
        form.client_secret = secret.clientSecret ?? ''
      }
      return await requestToken(http, url, form)
    }
    case 'google': {
      const header: Record<string, string> = auth.privateKeyId !== null ? { kid: auth.privateKeyId } : {}
      const assertion = signJwt(header, { iss: auth.clientEmail, sub: user, scope: GOOGLE_SCOPE, aud: auth.tokenUri, iat: seconds, exp: seconds + 3600 }, secret.privateKey ?? '')
      return await requestToken(http, auth.tokenUri, { grant_type: JWT_BEARER_GRANT, assertion })
    }
    case 'oauth_refresh':
      return await requestToken(http, auth.tokenUrl, {
        grant_type: 'refresh_token',
        refresh_token: secret.refreshToken ?? '',
        client_id: auth.clientId,
        ...(secret.clientSecret !== undefined ? { client_secret: secret.clientSecret } : {}),
        ...(auth.scope !== null ? { scope: auth.scope } : {})
      })
  }
}
