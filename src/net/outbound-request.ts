import { request, type Dispatcher } from 'undici'
import { clientSpan } from '../telemetry/spans.js'
import { assertLiteralAllowed } from './outbound-dispatcher.js'
import { OutboundDenied, type OutboundDeny } from './outbound-guard.js'

// One HTTP exchange with a host a tenant named (Orchestrator, a chat webhook, an HTTP target): the
// deny list checked (literals here, names at connect time by the dispatcher), time-limited, traced
// as a client span, and every way it can fail before an answer told in words that name where
// mailrun tried — and whether the request can have reached the server at all.

export interface OutboundDeps {
  dispatcher: Dispatcher
  deny: OutboundDeny
}

export interface OutboundInit {
  headers?: Record<string, string>
  body?: string | Buffer
  timeoutMs: number
  /** Who is at the other end, for the words of an error: "Orchestrator", "the HTTP target". */
  peer: string
  /** Characters of the answer kept (the rest is read and dropped): bounded whatever the server sends. */
  maxAnswerChars?: number
}

export interface OutboundAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** No answer came. `neverSent`: the request cannot have reached the server (refused before or at connect). */
export class OutboundFailure extends Error {
  constructor (message: string, readonly code: string, readonly denied: boolean, readonly neverSent: boolean) {
    super(message)
    this.name = 'OutboundFailure'
  }
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

function deniedBy (error: unknown): OutboundDenied | null {
  if (error instanceof OutboundDenied) return error
  const cause = (error as { cause?: unknown } | null)?.cause
  return cause instanceof OutboundDenied ? cause : null
}

/** What went wrong before an answer came, naming where mailrun tried and, for a timeout, how long it waited. */
function failure (error: unknown, target: URL, init: OutboundInit): OutboundFailure {
  const denied = deniedBy(error)
  if (denied !== null) return new OutboundFailure(denied.message, 'DENIED', true, true)
  const e = error as { code?: string, cause?: { code?: string } }
  const code = e.code ?? e.cause?.code ?? 'ERROR'
  const sent = !NOT_SENT_CODES.has(code)
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new OutboundFailure(`could not connect to ${init.peer} at ${target.origin} within the connect timeout (${code})`, code, false, !sent)
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new OutboundFailure(`${init.peer} at ${target.origin} did not answer within ${Math.round(init.timeoutMs / 100) / 10} s (${code})`, code, false, !sent)
  return new OutboundFailure(`could not reach ${init.peer} at ${target.origin}: ${NETWORK_WORDS[code] ?? 'the request failed'} (${code})`, code, false, !sent)
}

async function readText (body: Dispatcher.ResponseData['body'], max: number | undefined): Promise<string> {
  if (max === undefined) return await body.text()
  let text = ''
  for await (const chunk of body) {
    if (text.length < max) text += (chunk as Buffer).toString('utf8')
  }
  return text.slice(0, max)
}

export async function outboundRequest (deps: OutboundDeps, method: Dispatcher.HttpMethod, url: URL, init: OutboundInit): Promise<OutboundAnswer> {
  try {
    assertLiteralAllowed(deps.deny, url)
    const answer = await clientSpan(method, url, async () => await request(url, {
      method,
      dispatcher: deps.dispatcher,
      ...(init.headers !== undefined ? { headers: init.headers } : {}),
      ...(init.body !== undefined ? { body: init.body } : {}),
      headersTimeout: init.timeoutMs,
      bodyTimeout: init.timeoutMs
    }))
    return { status: answer.statusCode, headers: answer.headers, text: await readText(answer.body, init.maxAnswerChars) }
  } catch (error) {
    throw failure(error, url, init)
  }
}
