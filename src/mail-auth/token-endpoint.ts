import { request, type Dispatcher } from 'undici'
import { assertLiteralAllowed } from '../net/outbound-dispatcher.js'
import { OutboundDenied, type OutboundDeny } from '../net/outbound-guard.js'

// One POST to an OAuth2 token endpoint (RFC 6749 section 4.4, 6; RFC 7523) and what its answer
// means for the mailbox: a token, credentials the server refused, or a server that could not say.

export interface TokenHttp {
  dispatcher: Dispatcher
  deny: OutboundDeny
  timeoutMs?: number
}

export interface TokenAnswer { access_token: string, expires_in?: number, refresh_token?: string }

/**
 * A token request that failed. `refused`: the server answered 4xx (the credentials, grant or
 * consent are wrong, retrying will not help until someone fixes them); otherwise it may pass later.
 */
export class MailTokenError extends Error {
  readonly refused: boolean
  constructor (message: string, refused: boolean) {
    super(message)
    this.name = 'MailTokenError'
    this.refused = refused
  }
}

/** The provider's own words, first line only (Microsoft appends trace and correlation ids). */
function providerText (body: unknown, raw: string): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown, error_description?: unknown }
  const code = typeof b.error === 'string' ? b.error : null
  const description = typeof b.error_description === 'string' ? b.error_description.split(/\r?\n/)[0]?.trim() ?? '' : ''
  if (code !== null) return description !== '' ? `${code}: ${description}` : code
  return raw.replace(/\s+/g, ' ').trim().slice(0, 200)
}

export async function requestToken (http: TokenHttp, url: string, form: Record<string, string>): Promise<TokenAnswer> {
  const target = new URL(url)
  const where = `${target.origin}${target.pathname}`
  try {
    assertLiteralAllowed(http.deny, target)
  } catch (error) {
    if (error instanceof OutboundDenied) throw new MailTokenError(`token endpoint ${where}: ${error.message}`, true)
    throw error
  }
  const timeoutMs = http.timeoutMs ?? 15_000
  let answer: Dispatcher.ResponseData
  try {
    answer = await request(target, {
      method: 'POST',
      dispatcher: http.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
  } catch (error) {
    const denied = error instanceof OutboundDenied ? error : (error as { cause?: unknown }).cause
    if (denied instanceof OutboundDenied) throw new MailTokenError(`token endpoint ${where}: ${denied.message}`, true)
    const e = error as { code?: string, cause?: { code?: string }, message?: string }
    throw new MailTokenError(`token endpoint ${where} could not be reached: ${e.code ?? e.cause?.code ?? e.message ?? 'the request failed'}`, false)
  }
  // A token answer is small; a server sending megabytes is not one.
  const raw = (await answer.body.text()).slice(0, 64 * 1024)
  let body: unknown = null
  try { body = JSON.parse(raw) } catch {}
  const status = answer.statusCode
  if (status >= 200 && status < 300) {
    const b = body as Partial<TokenAnswer> | null
    if (typeof b?.access_token !== 'string' || b.access_token === '') throw new MailTokenError(`token endpoint ${where} answered ${status} without an access_token`, false)
    return { access_token: b.access_token, ...(typeof b.expires_in === 'number' ? { expires_in: b.expires_in } : {}), ...(typeof b.refresh_token === 'string' && b.refresh_token !== '' ? { refresh_token: b.refresh_token } : {}) }
  }
  const refused = status >= 400 && status < 500 && status !== 429 && status !== 408
  throw new MailTokenError(`token endpoint ${where} answered ${status}: ${providerText(body, raw)}`, refused)
}
