import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IdentityStandIn } from './identity-stand-in.js'

// A local stand-in for the part of Microsoft Graph v1.0 a mail watcher uses, following its contract
// (property names from Graph's own metadata, tests/fixtures/microsoft-graph-mail-subset.csdl.xml):
// subscriptions (create with the validation handshake on both URLs, renew, reauthorize, delete;
// 10,070 minutes at most), change notifications with clientState, lifecycle notifications,
// a message's MIME ($value), a folder's message delta (nextLink pages, then a deltaLink), error
// bodies {"error": {"code", "message"}}, and throttling (429 with Retry-After) on demand.
// Tokens are checked with the token endpoints' stand-in: issued for Graph's scope, and the app
// granted the mailbox.

export interface StoredMessage { id: string, user: string, folder: string, raw: Buffer, receivedDateTime: string, seq: number }
export interface StandInSubscription {
  id: string
  resource: string
  user: string
  folder: string
  changeType: string
  notificationUrl: string
  lifecycleNotificationUrl: string | null
  clientState: string | null
  expirationDateTime: string
}

export interface GraphStandIn {
  url: string
  scope: string
  messages: StoredMessage[]
  subscriptions: Map<string, StandInSubscription>
  requests: Array<{ method: string, path: string }>
  /** Notification posts made, with the status mailrun answered. */
  notified: Array<{ subscriptionId: string, status: number }>
  /** A new message in a folder; Graph notifies every live subscription on it unless `notify` is false (a lost notification). */
  deliver: (user: string, folder: 'inbox' | 'junkemail', raw: string | Buffer, options?: { notify?: boolean }) => Promise<string>
  /** The next `count` requests answer 429 with Retry-After `retryAfterS`. */
  throttle: (count: number, retryAfterS: number) => void
  /** A lifecycle notification for a subscription; subscriptionRemoved also removes it, as Graph does. */
  lifecycle: (subscriptionId: string, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed') => Promise<number>
  close: () => Promise<void>
}

const MAX_MINUTES = 10_070
const TENANT_ID = randomUUID()

export async function startGraphStandIn (idp: IdentityStandIn): Promise<GraphStandIn> {
  const messages: StoredMessage[] = []
  const subscriptions = new Map<string, StandInSubscription>()
  const requests: GraphStandIn['requests'] = []
  const notified: GraphStandIn['notified'] = []
  let throttled = { count: 0, retryAfterS: 1 }
  let seq = 0
  const state = { url: '', scope: '' }

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { ...(body !== undefined ? { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8' } : {}), 'request-id': randomUUID(), ...headers })
    res.end(body !== undefined ? JSON.stringify(body) : undefined)
  }
  const error = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void => {
    send(res, status, { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } }, headers)
  }

  const post = async (url: string, body: unknown, validationToken?: string): Promise<{ status: number, text: string }> => {
    const target = validationToken !== undefined ? `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(validationToken)}` : url
    try {
      const res = await fetch(target, { method: 'POST', headers: { 'content-type': validationToken !== undefined ? 'text/plain; charset=utf-8' : 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) })
      return { status: res.status, text: await res.text() }
    } catch {
      return { status: 0, text: '' }
    }
  }

  const view = (s: StandInSubscription): Record<string, unknown> => ({
    '@odata.context': `${state.url}/v1.0/$metadata#subscriptions/$entity`,
    id: s.id,
    resource: s.resource,
    applicationId: randomUUID(),
    changeType: s.changeType,
    clientState: s.clientState,
    notificationUrl: s.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl,
    expirationDateTime: s.expirationDateTime,
    creatorId: randomUUID(),
    includeResourceData: null,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null
  })

  const token = (req: IncomingMessage): string => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
  const mayRead = (req: IncomingMessage, user: string): boolean => idp.allows(token(req), user, state.scope)

  async function readJson (req: IncomingMessage): Promise<Record<string, unknown> | null> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    if (text === '') return {}
    try { return JSON.parse(text) as Record<string, unknown> } catch { return null }
  }

  const deltaItem = (m: StoredMessage): Record<string, unknown> => ({ '@odata.type': '#microsoft.graph.message', '@odata.etag': `W/"${m.seq}"`, id: m.id, receivedDateTime: m.receivedDateTime })
  const link = (kind: '$skiptoken' | '$deltatoken', user: string, folder: string, value: object): string =>
    `${state.url}/v1.0/users/${encodeURIComponent(user)}/mailFolders/${folder}/messages/delta?${kind}=${Buffer.from(JSON.stringify(value)).toString('base64url')}`

  async function route (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', state.url)
    const path = decodeURIComponent(url.pathname)
    requests.push({ method: req.method ?? '', path })
    if (throttled.count > 0) {
      throttled.count--
      error(res, 429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': String(throttled.retryAfterS) })
      return
    }
    if (token(req) === '') { error(res, 401, 'InvalidAuthenticationToken', 'Access token is empty.'); return }
    if (!idp.valid(token(req), state.scope)) { error(res, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'); return }
    let m: RegExpExecArray | null
    if (req.method === 'POST' && path === '/v1.0/subscriptions') {
      const body = await readJson(req)
      if (body === null) { error(res, 400, 'BadRequest', 'Unable to read JSON request payload.'); return }
      const resource = /^users\/([^/]+)\/mailFolders\('([^']+)'\)\/messages$/i.exec(String(body.resource ?? ''))
      if (resource === null) { error(res, 400, 'InvalidRequest', `Resource '${String(body.resource)}' is not supported.`); return }
      const user = resource[1] ?? ''
      if (!mayRead(req, user)) { error(res, 403, 'ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied. Check credentials and try again.]'); return }
      const expiration = Date.parse(String(body.expirationDateTime ?? ''))
      if (Number.isNaN(expiration) || expiration <= Date.now()) { error(res, 400, 'InvalidRequest', 'Subscription expiration must be in the future.'); return }
      if (expiration > Date.now() + MAX_MINUTES * 60_000) { error(res, 400, 'InvalidRequest', `Subscription expiration can only be ${MAX_MINUTES} minutes in the future.`); return }
      if (typeof body.clientState === 'string' && body.clientState.length > 128) { error(res, 400, 'InvalidRequest', 'clientState must not exceed 128 characters.'); return }
      if (typeof body.notificationUrl !== 'string' || !/^https?:\/\//.test(body.notificationUrl)) { error(res, 400, 'InvalidRequest', 'The notificationUrl is invalid.'); return }
      for (const target of [body.notificationUrl, body.lifecycleNotificationUrl]) {
        if (typeof target !== 'string') continue
        const validationToken = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`
        const answer = await post(target, undefined, validationToken)
        if (answer.status !== 200 || answer.text !== validationToken) {
          error(res, 400, 'InvalidRequest', `Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. (${target} answered ${answer.status})`)
          return
        }
      }
      const subscription: StandInSubscription = {
        id: randomUUID(),
        resource: String(body.resource),
        user,
        folder: (resource[2] ?? '').toLowerCase(),
        changeType: String(body.changeType ?? ''),
        notificationUrl: body.notificationUrl,
        lifecycleNotificationUrl: typeof body.lifecycleNotificationUrl === 'string' ? body.lifecycleNotificationUrl : null,
        clientState: typeof body.clientState === 'string' ? body.clientState : null,
        expirationDateTime: new Date(expiration).toISOString()
      }
      subscriptions.set(subscription.id, subscription)
      send(res, 201, view(subscription))
      return
    }
    if ((m = /^\/v1\.0\/subscriptions\/([^/]+)(\/reauthorize)?$/.exec(path)) !== null) {
      const subscription = subscriptions.get(m[1] ?? '')
      if (subscription === undefined) { error(res, 404, 'ResourceNotFound', 'The object was not found.'); return }
      if (!mayRead(req, subscription.user)) { error(res, 403, 'ExtensionError', 'Access is denied. Check credentials and try again.'); return }
      if (req.method === 'POST' && m[2] !== undefined) { send(res, 204); return }
      if (req.method === 'DELETE') { subscriptions.delete(subscription.id); send(res, 204); return }
      if (req.method === 'PATCH') {
        const body = await readJson(req)
        const expiration = Date.parse(String(body?.expirationDateTime ?? ''))
        if (Number.isNaN(expiration) || expiration > Date.now() + MAX_MINUTES * 60_000) { error(res, 400, 'InvalidRequest', `Subscription expiration can only be ${MAX_MINUTES} minutes in the future.`); return }
        subscription.expirationDateTime = new Date(expiration).toISOString()
        send(res, 200, view(subscription))
        return
      }
    }
    if (req.method === 'GET' && (m = /^\/v1\.0\/users\/([^/]+)\/mailFolders\/(inbox|junkemail)$/i.exec(path)) !== null) {
      const user = m[1] ?? ''
      if (!mayRead(req, user)) { error(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'); return }
      const folder = (m[2] ?? '').toLowerCase()
      send(res, 200, { '@odata.context': `${state.url}/v1.0/$metadata#users('${user}')/mailFolders(displayName,totalItemCount)/$entity`, id: `AQMk${folder}`, displayName: folder === 'inbox' ? 'Inbox' : 'Junk Email', totalItemCount: messages.filter((x) => x.user.toLowerCase() === user.toLowerCase() && x.folder === folder).length })
      return
    }
    if (req.method === 'GET' && (m = /^\/v1\.0\/users\/([^/]+)\/mailFolders\/(inbox|junkemail)$/i.exec(path)) !== null) {
      const user = m[1] ?? ''
      if (!mayRead(req, user)) { error(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'); return }
      const folder = (m[2] ?? '').toLowerCase()
      send(res, 200, { '@odata.context': `${state.url}/v1.0/$metadata#users('${user}')/mailFolders(displayName,totalItemCount)/$entity`, id: `AQMk${folder}`, displayName: folder === 'inbox' ? 'Inbox' : 'Junk Email', totalItemCount: messages.filter((x) => x.user.toLowerCase() === user.toLowerCase() && x.folder === folder).length })
      return
    }
    if (req.method === 'GET' && (m = /^\/v1\.0\/users\/([^/]+)\/messages\/([^/]+)\/\$value$/.exec(path)) !== null) {
      const user = m[1] ?? ''
      if (!mayRead(req, user)) { error(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'); return }
      const message = messages.find((x) => x.user.toLowerCase() === user.toLowerCase() && x.id === m?.[2])
      if (message === undefined) { error(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.'); return }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(message.raw.length) })
      res.end(message.raw)
      return
    }
    if (req.method === 'GET' && (m = /^\/v1\.0\/users\/([^/]+)\/mailFolders\/([^/]+)\/messages\/delta$/.exec(path)) !== null) {
      const user = m[1] ?? ''
      const folder = (m[2] ?? '').toLowerCase()
      if (!mayRead(req, user)) { error(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'); return }
      const inFolder = messages.filter((x) => x.user.toLowerCase() === user.toLowerCase() && x.folder === folder)
      let after = 0
      let upTo = seq
      let since = 0
      const skip = url.searchParams.get('$skiptoken')
      const delta = url.searchParams.get('$deltatoken')
      try {
        if (skip !== null) ({ after, upTo, since } = JSON.parse(Buffer.from(skip, 'base64url').toString()) as { after: number, upTo: number, since: number })
        else if (delta !== null) ({ after } = JSON.parse(Buffer.from(delta, 'base64url').toString()) as { after: number })
      } catch {
        error(res, 400, 'BadRequest', 'The delta token is invalid.')
        return
      }
      const filter = url.searchParams.get('$filter')
      if (filter !== null) {
        const f = /^receivedDateTime ge (\S+)$/.exec(filter)
        if (f === null) { error(res, 400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.'); return }
        since = Date.parse(f[1] ?? '')
      }
      const due = inFolder.filter((x) => x.seq > after && x.seq <= upTo && Date.parse(x.receivedDateTime) >= since).sort((a, b) => a.seq - b.seq)
      // Two to a page, so that following nextLink is part of every test.
      const page = due.slice(0, 2)
      const last = page.at(-1)?.seq ?? after
      const body: Record<string, unknown> = { '@odata.context': `${state.url}/v1.0/$metadata#Collection(message)`, value: page.map(deltaItem) }
      if (due.length > 2) body['@odata.nextLink'] = link('$skiptoken', user, folder, { after: last, upTo, since })
      else body['@odata.deltaLink'] = link('$deltatoken', user, folder, { after: Math.max(last, due.length === 0 ? upTo : last) })
      send(res, 200, body)
      return
    }
    error(res, 400, 'BadRequest', `Unsupported request: ${req.method ?? ''} ${path}`)
  }

  const server = createServer((req, res) => { route(req, res).catch(() => { res.destroy() }) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.scope = `${state.url}/.default`

  const notify = async (s: StandInSubscription, value: Record<string, unknown>, url: string): Promise<number> => {
    const answer = await post(url, { value: [{ subscriptionId: s.id, subscriptionExpirationDateTime: s.expirationDateTime, clientState: s.clientState, tenantId: TENANT_ID, ...value }] })
    notified.push({ subscriptionId: s.id, status: answer.status })
    return answer.status
  }

  return {
    get url () { return state.url },
    get scope () { return state.scope },
    messages,
    subscriptions,
    requests,
    notified,
    async deliver (user, folder, raw, options = {}) {
      const message: StoredMessage = { id: `AAMkAD${randomBytes(24).toString('base64url')}=`, user, folder, raw: Buffer.from(raw), receivedDateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), seq: ++seq }
      messages.push(message)
      if (options.notify !== false) {
        for (const s of subscriptions.values()) {
          if (s.user.toLowerCase() !== user.toLowerCase() || s.folder !== folder || Date.parse(s.expirationDateTime) <= Date.now()) continue
          const resource = `Users/${user}/Messages/${message.id}`
          await notify(s, { changeType: 'created', resource, resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': resource, '@odata.etag': `W/"${message.seq}"`, id: message.id } }, s.notificationUrl)
        }
      }
      return message.id
    },
    throttle (count, retryAfterS) { throttled = { count, retryAfterS } },
    async lifecycle (subscriptionId, event) {
      const s = subscriptions.get(subscriptionId)
      if (s?.lifecycleNotificationUrl == null) return 0
      if (event === 'subscriptionRemoved') subscriptions.delete(subscriptionId)
      return await notify(s, { lifecycleEvent: event, resource: s.resource }, s.lifecycleNotificationUrl)
    },
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}
