import type { Dispatcher } from 'undici'
import type { OutboundDeny } from '../net/outbound-guard.js'
import { OutboundFailure, outboundRequest } from '../net/outbound-request.js'
import { explain, OrchestratorError } from './errors.js'
import { retryAfterMs } from '../net/retry-after.js'

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

/**
 * One HTTP exchange with Orchestrator or its identity server. Answers 2xx bodies parsed; turns
 * anything else into an OrchestratorError carrying status, errorCode, traceId and Retry-After.
 */
export async function call<T> (deps: HttpDeps, method: Dispatcher.HttpMethod, url: string, init: { headers?: Record<string, string>, body?: string | Buffer, context?: { folder?: string, process?: string }, timeoutMs?: number } = {}): Promise<HttpAnswer<T>> {
  const target = new URL(url)
  let text: string
  let answer: { statusCode: number, headers: Record<string, string | string[] | undefined> }
  try {
    const got = await outboundRequest(deps, method, target, {
      headers: { accept: 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      timeoutMs: init.timeoutMs ?? deps.timeoutMs ?? 10_000,
      peer: 'Orchestrator'
    })
    text = got.text
    answer = { statusCode: got.status, headers: got.headers }
  } catch (error) {
    if (!(error instanceof OutboundFailure)) throw error
    throw new OrchestratorError(error.denied
      ? { status: 0, message: error.message, transient: false }
      : { status: 0, message: error.message, errorCode: error.code, transient: true, neverSent: error.neverSent })
  }
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
