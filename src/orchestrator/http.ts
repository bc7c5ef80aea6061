import { request, type Dispatcher } from 'undici'
import { assertLiteralAllowed } from '../net/outbound-dispatcher.js'
import { OutboundDenied, type OutboundDeny } from '../net/outbound-guard.js'
import { explain, OrchestratorError } from './errors.js'
import { clientSpan } from '../telemetry/spans.js'

export interface HttpDeps {
  dispatcher: Dispatcher
  deny: OutboundDeny
  /** Per-request time limit for headers and body. */
  timeoutMs?: number
}

export interface HttpAnswer<T> {
  status: number
  body: T
  headers: Record<string, string | string[] | undefined>
}

export function retryAfterMs (value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined || text.trim() === '') return null
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

// Failures that happen before a request leaves: the server cannot have acted on it.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the connection was reset',
  UND_ERR_SOCKET: 'the connection was closed',
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another name"
}

/** What went wrong before an answer came, naming where mailrun tried and, for a timeout, how long it waited. */
function describeNetworkError (error: unknown, target: URL, timeoutMs: number): { message: string, code: string } {
  const e = error as { code?: string, cause?: { code?: string } }
  const code = e.code ?? e.cause?.code ?? 'ERROR'
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { message: `could not connect to Orchestrator at ${target.origin} within the connect timeout (${code})`, code }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { message: `Orchestrator at ${target.origin} did not answer within ${Math.round(timeoutMs / 100) / 10} s (${code})`, code }
  return { message: `could not reach Orchestrator at ${target.origin}: ${NETWORK_WORDS[code] ?? 'the request failed'} (${code})`, code }
}

/**
 * One HTTP exchange with Orchestrator or its identity server. Answers 2xx bodies parsed; turns
 * anything else into an OrchestratorError carrying status, errorCode, traceId and Retry-After.
 */
export async function call<T> (deps: HttpDeps, method: Dispatcher.HttpMethod, url: string, init: { headers?: Record<string, string>, body?: string | Buffer, context?: { folder?: string, process?: string }, timeoutMs?: number } = {}): Promise<HttpAnswer<T>> {
  const target = new URL(url)
  try {
    assertLiteralAllowed(deps.deny, target)
  } catch (error) {
    if (error instanceof OutboundDenied) throw new OrchestratorError({ status: 0, message: error.message, transient: false })
    throw error
  }
  const timeoutMs = init.timeoutMs ?? deps.timeoutMs ?? 10_000
  let answer: Dispatcher.ResponseData
  try {
    answer = await clientSpan(method, target, async () => await request(target, {
      method,
      dispatcher: deps.dispatcher,
      headers: { accept: 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    }))
  } catch (error) {
    if (error instanceof OutboundDenied || (error as { cause?: unknown }).cause instanceof OutboundDenied) {
      throw new OrchestratorError({ status: 0, message: (error instanceof OutboundDenied ? error : (error as { cause: Error }).cause).message, transient: false })
    }
    const { message, code } = describeNetworkError(error, target, timeoutMs)
    throw new OrchestratorError({ status: 0, message, errorCode: code, transient: true, neverSent: NOT_SENT_CODES.has(code) })
  }
  const text = await answer.body.text()
  let body: unknown = text
  if (text !== '' && /json/i.test(String(answer.headers['content-type'] ?? ''))) {
    try { body = JSON.parse(text) } catch { body = text }
  }
  if (answer.statusCode >= 200 && answer.statusCode < 300) return { status: answer.statusCode, body: body as T, headers: answer.headers }

  const b = (typeof body === 'object' && body !== null ? body : {}) as { message?: string, errorCode?: number | string, traceId?: string, error?: string, error_description?: string }
  const serverMessage = b.message ?? b.error_description ?? b.error ?? (typeof body === 'string' ? body.slice(0, 200) : '')
  throw new OrchestratorError({
    status: answer.statusCode,
    message: explain(answer.statusCode, b.errorCode ?? null, serverMessage, init.context),
    errorCode: b.errorCode ?? b.error ?? null,
    traceId: b.traceId ?? null,
    retryAfterMs: retryAfterMs(answer.headers['retry-after']),
    serverMessage
  })
}
