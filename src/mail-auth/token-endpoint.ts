import type { Dispatcher } from 'undici'
import type { OutboundDeny } from '../net/outbound-guard.js'
import { OutboundFailure, outboundRequest } from '../net/outbound-request.js'

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
  let raw: string
  let status: number
  try {
    // A token answer is small; a server sending megabytes is not one.
    const answer = await outboundRequest(http, 'POST', target, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      timeoutMs: http.timeoutMs ?? 15_000,
      peer: 'the token endpoint',
      maxAnswerChars: 64 * 1024
    })
    raw = answer.text
    status = answer.status
  } catch (error) {
    if (!(error instanceof OutboundFailure)) throw error
    if (error.denied) throw new MailTokenError(`token endpoint ${where}: ${error.message}`, true)
    throw new MailTokenError(`token endpoint ${where} could not be reached: ${error.code}`, false)
  }
  let body: unknown = null
  try { body = JSON.parse(raw) } catch {}
  if (status >= 200 && status < 300) {
    const b = body as Partial<TokenAnswer> | null
    if (typeof b?.access_token !== 'string' || b.access_token === '') throw new MailTokenError(`token endpoint ${where} answered ${status} without an access_token`, false)
    return { access_token: b.access_token, ...(typeof b.expires_in === 'number' ? { expires_in: b.expires_in } : {}), ...(typeof b.refresh_token === 'string' && b.refresh_token !== '' ? { refresh_token: b.refresh_token } : {}) }
  }
  const refused = status >= 400 && status < 500 && status !== 429 && status !== 408
  throw new MailTokenError(`token endpoint ${where} answered ${status}: ${providerText(body, raw)}`, refused)
}
