import type { OrchestratorConnection } from './connection.js'
import { DEFAULT_SCOPES } from './connection.js'
import { clientCredentialsTokenUrl, passwordAuthenticateUrl, refreshTokenUrl } from './endpoints.js'
import { OrchestratorError } from './errors.js'
import { call, type HttpDeps } from './http.js'

export interface TokenProvider {
  /** A valid access token, from the cache or freshly obtained (one request at a time). */
  get: () => Promise<string>
  /** Forget `token` after Orchestrator refused it, so the next get() authenticates again. */
  invalidate: (token: string) => void
}

interface AccessToken { value: string, expiresAt: number }

// Renew a little before expiry, so that a token never expires between cache and use.
const EARLY_RENEWAL_MS = 60_000
const PASSWORD_TOKEN_LIFETIME_MS = 30 * 60_000

function jwtExpiry (token: string): number | null {
  const payload = token.split('.')[1]
  if (payload === undefined) return null
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp
    return typeof exp === 'number' ? exp * 1000 : null
  } catch {
    return null
  }
}

function authFailure (mode: string, error: unknown, hint: string): OrchestratorError {
  if (!(error instanceof OrchestratorError)) throw error
  if (error.transient) return error
  return new OrchestratorError({
    status: error.status,
    errorCode: error.errorCode,
    traceId: error.traceId,
    transient: false,
    // With no answer at all (a refused destination), the credentials were never tried: no hint about them.
    message: error.status === 0 ? `authentication (${mode}) failed: ${error.message}` : `authentication (${mode}) failed: the server answered ${error.status}${error.errorCode !== null ? ` ${String(error.errorCode)}` : ''}; ${hint}`
  })
}

async function obtain (c: OrchestratorConnection, http: HttpDeps, now: number): Promise<AccessToken> {
  switch (c.authMode) {
    case 'client_credentials': {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId ?? '', client_secret: c.secret ?? '', scope: c.scopes ?? DEFAULT_SCOPES })
      try {
        const { body } = await call<{ access_token: string, expires_in?: number }>(http, 'POST', clientCredentialsTokenUrl(c), {
          headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString()
        })
        return { value: body.access_token, expiresAt: now + (body.expires_in ?? 3600) * 1000 }
      } catch (error) {
        throw authFailure('client_credentials', error, 'check the external application id, secret and scopes')
      }
    }
    case 'password': {
      try {
        const { body } = await call<{ result: string }>(http, 'POST', passwordAuthenticateUrl(c), {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ tenancyName: c.tenantName ?? 'Default', usernameOrEmailAddress: c.username ?? '', password: c.secret ?? '' })
        })
        return { value: body.result, expiresAt: jwtExpiry(body.result) ?? now + PASSWORD_TOKEN_LIFETIME_MS }
      } catch (error) {
        throw authFailure('password', error, 'check the tenancy name, user name and password')
      }
    }
    case 'refresh_token': {
      try {
        const { body } = await call<{ access_token: string, expires_in?: number }>(http, 'POST', refreshTokenUrl(c), {
          headers: { 'content-type': 'application/json', 'x-uipath-tenantname': c.tenantName ?? '' },
          body: JSON.stringify({ grant_type: 'refresh_token', client_id: c.clientId ?? '', refresh_token: c.secret ?? '' })
        })
        return { value: body.access_token, expiresAt: now + (body.expires_in ?? 86400) * 1000 }
      } catch (error) {
        throw authFailure('refresh_token', error, 'check the client id and user key (this legacy method is deprecated: prefer an external application)')
      }
    }
    case 'token':
      return { value: c.secret ?? '', expiresAt: Number.POSITIVE_INFINITY }
  }
}

export function createTokenProvider (connection: OrchestratorConnection, http: HttpDeps, clock: () => number = Date.now): TokenProvider {
  let cached: AccessToken | null = null
  let inflight: Promise<AccessToken> | null = null
  return {
    async get () {
      if (cached !== null && cached.expiresAt - EARLY_RENEWAL_MS > clock()) return cached.value
      // Concurrent launches share one authentication instead of each starting their own.
      inflight ??= obtain(connection, http, clock()).finally(() => { inflight = null })
      cached = await inflight
      return cached.value
    },
    invalidate (token) {
      if (cached?.value === token) cached = null
    }
  }
}
