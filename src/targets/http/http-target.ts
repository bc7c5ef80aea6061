import { outboundDispatcher } from '../../net/outbound-dispatcher.js'
import type { OutboundDeny } from '../../net/outbound-guard.js'
import { OutboundFailure, outboundRequest, type OutboundAnswer } from '../../net/outbound-request.js'
import { retryAfterMs } from '../../net/retry-after.js'
import { webhookHeaders } from '../../crypto/standard-webhooks.js'
import { TargetError } from '../target-error.js'

// A signed HTTP target (n8n, Airflow, Temporal, an in-house runner). Each launch is one POST of
// {launchId, robot, sender, inputs, functions, attachments} with Idempotency-Key: <launchId> and the Standard
// Webhooks headers (webhook-id is the launch id too, so every retry carries the same ids, signed
// anew). A 2xx means launched, with an optional {"runId", "statusUrl"}; the run's end comes by a
// signed callback or, when a statusUrl was given, by polling it.

export interface HttpTargetDeps {
  deny: OutboundDeny
  timeoutMs: number
}

export interface HttpConnection { url: string, secret: string }

export interface HttpLaunch {
  launchId: string
  robot: string
  sender: string | null
  inputs: Record<string, unknown>
  functions: Array<{ name: string, args: Record<string, unknown> }>
  /** The email's files the robot takes, content in base64; empty when it takes none. */
  attachments: Array<{ name: string, contentType: string, size: number, content: string }>
}

export interface HttpRun { runId: string | null, statusUrl: string | null }

export type RunStatus = 'running' | 'completed' | 'faulted' | 'stopped'

export interface RunReport { status: RunStatus, outputs: Record<string, unknown> | null, info: string | null }

export interface HttpTarget {
  start: (connection: HttpConnection, launch: HttpLaunch) => Promise<HttpRun>
  status: (connection: HttpConnection, statusUrl: string, launchId: string) => Promise<RunReport>
  /** A GET to the URL: whether anything answers there (no run is started by a GET). */
  probe: (url: string) => Promise<OutboundAnswer>
  close: () => Promise<void>
}

const ANSWER_CHARS = 64 * 1024
const PEER = 'the HTTP target'
const STATUSES = new Set<RunStatus>(['running', 'completed', 'faulted', 'stopped'])

/** The words of a refusal: the status and what the target said, shortened. */
function refusal (answer: OutboundAnswer, what: string): string {
  const said = answer.text.replace(/\s+/g, ' ').trim().slice(0, 300)
  return `the HTTP target answered ${answer.status} to ${what}${said !== '' ? `: ${said}` : ''}`
}

function judged (answer: OutboundAnswer, what: string): TargetError {
  // 408, 425, 429 and 5xx may pass; any other 4xx says the request itself is wrong.
  const transient = answer.status >= 500 || answer.status === 408 || answer.status === 425 || answer.status === 429
  return new TargetError(refusal(answer, what), { transient, status: answer.status, retryAfterMs: retryAfterMs(answer.headers['retry-after']) })
}

function unreached (error: unknown): never {
  if (error instanceof OutboundFailure) throw new TargetError(error.message, { transient: !error.denied, neverSent: error.neverSent })
  throw error
}

function parseJson (text: string): Record<string, unknown> | null {
  if (text.trim() === '') return null
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

/** A statusUrl the target gave: absolute, or relative to the URL the launch went to; http(s) only. */
function statusUrlOf (value: unknown, base: string): string | null {
  if (typeof value !== 'string' || value === '' || value.length > 2000) return null
  try {
    const url = new URL(value, base)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : null
  } catch {
    return null
  }
}

export function createHttpTarget (deps: HttpTargetDeps): HttpTarget {
  const dispatcher = outboundDispatcher(deps.deny, { connections: 8, keepAliveTimeout: 10_000 })
  const send = { dispatcher, deny: deps.deny }

  return {
    async start (connection, launch) {
      const body = JSON.stringify(launch)
      let answer: OutboundAnswer
      try {
        answer = await outboundRequest(send, 'POST', new URL(connection.url), {
          headers: { 'content-type': 'application/json', 'idempotency-key': launch.launchId, ...webhookHeaders(connection.secret, launch.launchId, body) },
          body,
          timeoutMs: deps.timeoutMs,
          peer: PEER,
          maxAnswerChars: ANSWER_CHARS
        })
      } catch (error) {
        unreached(error)
      }
      if (answer.status < 200 || answer.status >= 300) throw judged(answer, 'the launch')
      const run = parseJson(answer.text)
      const runId = run?.runId
      return {
        runId: typeof runId === 'string' || typeof runId === 'number' ? String(runId).slice(0, 200) : null,
        statusUrl: statusUrlOf(run?.statusUrl, connection.url)
      }
    },

    async status (connection, statusUrl, launchId) {
      let answer: OutboundAnswer
      try {
        // Signed like the launch (an empty body), so the target can tell mailrun from anyone else.
        answer = await outboundRequest(send, 'GET', new URL(statusUrl), { headers: { accept: 'application/json', ...webhookHeaders(connection.secret, launchId, '') }, timeoutMs: deps.timeoutMs, peer: PEER, maxAnswerChars: ANSWER_CHARS })
      } catch (error) {
        unreached(error)
      }
      if (answer.status < 200 || answer.status >= 300) throw judged(answer, 'the status request')
      const report = parseJson(answer.text)
      const status = report?.status
      if (typeof status !== 'string' || !STATUSES.has(status as RunStatus)) {
        throw new TargetError(`the HTTP target's status answer has no status of running, completed, faulted or stopped (${answer.text.slice(0, 200)})`, { transient: true, status: answer.status })
      }
      const outputs = report?.outputs
      const info = report?.info
      return {
        status: status as RunStatus,
        outputs: typeof outputs === 'object' && outputs !== null && !Array.isArray(outputs) ? outputs as Record<string, unknown> : null,
        info: typeof info === 'string' ? info.slice(0, 2000) : null
      }
    },

    async probe (url) {
      try {
        return await outboundRequest(send, 'GET', new URL(url), { timeoutMs: deps.timeoutMs, peer: PEER, maxAnswerChars: 2000 })
      } catch (error) {
        unreached(error)
      }
    },

    async close () {
      await dispatcher.close()
    }
  }
}
