import { request, type Dispatcher } from 'undici'
import { assertLiteralAllowed } from '../net/outbound-dispatcher.js'
import { OutboundDenied, type OutboundDeny } from '../net/outbound-guard.js'
import { retryAfterMs } from '../net/retry-after.js'

// The few Microsoft Graph calls a mail watcher makes: subscriptions (create, renew, reauthorize),
// a message's MIME, and a folder's message delta. Errors keep Graph's own code and message.

export interface GraphHttp { dispatcher: Dispatcher, deny: OutboundDeny, timeoutMs?: number }

export class GraphError extends Error {
  constructor (readonly status: number, readonly code: string | null, message: string, readonly retryAfterMs: number | null = null) {
    super(message)
    this.name = 'GraphError'
  }
}

export interface Subscription { id: string, expirationDateTime: string }
export interface DeltaPage { value: Array<{ id: string, receivedDateTime?: string, '@removed'?: unknown }>, '@odata.nextLink'?: string, '@odata.deltaLink'?: string }

export interface GraphClient {
  createSubscription: (body: { changeType: string, notificationUrl: string, lifecycleNotificationUrl: string, resource: string, expirationDateTime: string, clientState: string }) => Promise<Subscription>
  renewSubscription: (id: string, expirationDateTime: string) => Promise<Subscription>
  reauthorize: (id: string) => Promise<void>
  deleteSubscription: (id: string) => Promise<void>
  /** A well-known folder's name and size (the mailbox test). */
  folder: (user: string, folder: string) => Promise<{ displayName?: string, totalItemCount?: number }>
  /** The message as RFC 822, at most `maxBytes` (a larger one is an error, not a truncation). */
  mime: (user: string, messageId: string, maxBytes: number) => Promise<Buffer>
  /** One page of a folder's message delta: the first (with `since`) or the link of the last page. */
  delta: (urlOrFolder: { link: string } | { user: string, folder: string, since: Date }) => Promise<DeltaPage>
}

const THROTTLE_RETRIES = 3

/**
 * `token` gives the access token to send; `refused` is told about one Graph answered 401 to (it
 * expired early or was revoked), and the request is sent once more with a fresh one.
 */
export function createGraphClient (http: GraphHttp, baseUrl: string, token: () => Promise<string>, sleep = async (ms: number) => { await new Promise((resolve) => setTimeout(resolve, ms)) }, refused: (token: string) => void = () => {}): GraphClient {
  const base = `${baseUrl.replace(/\/+$/, '')}/v1.0`

  async function call (method: Dispatcher.HttpMethod, url: string, body?: unknown, maxBytes = 4 * 1024 * 1024): Promise<{ status: number, body: Buffer }> {
    const target = new URL(url)
    try {
      assertLiteralAllowed(http.deny, target)
    } catch (error) {
      if (error instanceof OutboundDenied) throw new GraphError(0, null, error.message)
      throw error
    }
    let reauthenticated = false
    for (let attempt = 0; ; attempt++) {
      let answer: Dispatcher.ResponseData
      const bearer = await token()
      try {
        answer = await request(target, {
          method,
          dispatcher: http.dispatcher,
          headers: { authorization: `Bearer ${bearer}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          headersTimeout: http.timeoutMs ?? 20_000,
          bodyTimeout: http.timeoutMs ?? 20_000
        })
      } catch (error) {
        const denied = error instanceof OutboundDenied ? error : (error as { cause?: unknown }).cause
        if (denied instanceof OutboundDenied) throw new GraphError(0, null, denied.message)
        const e = error as { code?: string, cause?: { code?: string }, message?: string }
        throw new GraphError(0, e.code ?? e.cause?.code ?? null, `Graph at ${target.origin} could not be reached: ${e.code ?? e.cause?.code ?? e.message ?? 'the request failed'}`)
      }
      // Bounded whatever the server sends: a message past the limit is refused, not buffered.
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of answer.body) {
        size += (chunk as Buffer).length
        if (size > maxBytes) { answer.body.destroy(); throw new GraphError(413, 'TooLarge', `the answer is larger than ${maxBytes} bytes`) }
        chunks.push(chunk as Buffer)
      }
      const raw = Buffer.concat(chunks)
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { status: answer.statusCode, body: raw }
      if (answer.statusCode === 401 && !reauthenticated) {
        reauthenticated = true
        refused(bearer)
        continue
      }
      const wait = retryAfterMs(answer.headers['retry-after'])
      // Throttled (429) or briefly unavailable (503): Graph says how long to wait; wait, a few times.
      if ((answer.statusCode === 429 || answer.statusCode === 503) && attempt < THROTTLE_RETRIES) {
        await sleep(Math.min(wait ?? 2 ** attempt * 1000, 60_000))
        continue
      }
      let code: string | null = null
      let message = raw.toString('utf8').slice(0, 300)
      try {
        const parsed = JSON.parse(raw.toString('utf8')) as { error?: { code?: string, message?: string } }
        code = parsed.error?.code ?? null
        message = parsed.error?.message ?? message
      } catch {}
      throw new GraphError(answer.statusCode, code, `Graph answered ${answer.statusCode}${code !== null ? ` ${code}` : ''}: ${message}`, wait)
    }
  }

  const json = <T>(answer: { body: Buffer }): T => JSON.parse(answer.body.toString('utf8')) as T
  const userPath = (user: string): string => `${base}/users/${encodeURIComponent(user)}`

  return {
    async createSubscription (body) {
      return json<Subscription>(await call('POST', `${base}/subscriptions`, body))
    },
    async renewSubscription (id, expirationDateTime) {
      return json<Subscription>(await call('PATCH', `${base}/subscriptions/${encodeURIComponent(id)}`, { expirationDateTime }))
    },
    async reauthorize (id) {
      await call('POST', `${base}/subscriptions/${encodeURIComponent(id)}/reauthorize`)
    },
    async deleteSubscription (id) {
      await call('DELETE', `${base}/subscriptions/${encodeURIComponent(id)}`)
    },
    async folder (user, folder) {
      return json<{ displayName?: string, totalItemCount?: number }>(await call('GET', `${userPath(user)}/mailFolders/${encodeURIComponent(folder)}?$select=displayName,totalItemCount`))
    },
    async mime (user, messageId, maxBytes) {
      return (await call('GET', `${userPath(user)}/messages/${encodeURIComponent(messageId)}/$value`, undefined, maxBytes)).body
    },
    async delta (from) {
      if ('link' in from) {
        // Links come from Graph; they must still point at Graph (and pass the deny list).
        if (new URL(from.link).origin !== new URL(base).origin) throw new GraphError(0, null, `a delta link outside ${new URL(base).origin}`)
        return json<DeltaPage>(await call('GET', from.link))
      }
      const query = new URLSearchParams({ $select: 'id,receivedDateTime', $filter: `receivedDateTime ge ${from.since.toISOString()}` })
      return json<DeltaPage>(await call('GET', `${userPath(from.user)}/mailFolders/${encodeURIComponent(from.folder)}/messages/delta?${query.toString()}`))
    }
  }
}
