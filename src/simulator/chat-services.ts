import { randomUUID } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import { listenLocally, readBody } from './local-http.js'

// Local stand-ins for the places a team reads alerts, each following its provider's documented
// contract: a Slack incoming webhook, a Microsoft Teams Workflows webhook, a Google Chat incoming
// webhook, the Chatwork room message API, and a plain receiver for signed webhooks. They check
// what a request must carry, answer with the provider's status codes and error bodies, and can be
// told to throttle (429 with Retry-After). They are stand-ins and say so; never the services.

export type ChatService = 'slack' | 'teams' | 'google_chat' | 'chatwork' | 'webhook'

export interface ChatRequest { service: ChatService, path: string, headers: Record<string, string | string[] | undefined>, body: string, at: number }

export interface ChatStandIns {
  url: string
  requests: ChatRequest[]
  /** The URLs a tenant would paste for each service (the Chatwork API base for chatwork). */
  urls: { slack: string, teams: string, googleChat: string, chatworkApi: string, webhook: (name: string) => string }
  /** The Chatwork API token the stand-in accepts. */
  chatworkToken: string
  /** The next `count` requests to `service` get 429 with Retry-After (seconds). */
  throttle: (service: ChatService, count: number, retryAfterS: number) => void
  /** The next requests to a webhook receiver `name` are answered with these statuses, in order. */
  answerWith: (name: string, statuses: number[]) => void
  close: () => Promise<void>
}

const SLACK_PATH = /^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/
const TEAMS_PATH = /^\/workflows\/[0-9a-f]{32}\/triggers\/manual\/paths\/invoke$/
const GCHAT_PATH = /^\/v1\/spaces\/([A-Za-z0-9_-]+)\/messages$/
const CHATWORK_PATH = /^\/v2\/rooms\/([0-9]+)\/messages$/
const WEBHOOK_PATH = /^\/hooks\/([A-Za-z0-9_-]+)$/

function parseJson (text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

export async function startChatStandIns (): Promise<ChatStandIns> {
  const requests: ChatRequest[] = []
  const throttled = new Map<ChatService, { count: number, retryAfterS: number }>()
  const scripted = new Map<string, number[]>()
  const chatworkToken = randomUUID().replace(/-/g, '')
  const teamsId = randomUUID().replace(/-/g, '')

  const send = (response: ServerResponse, status: number, body: string | Record<string, unknown>, headers: Record<string, string> = {}): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers })
    response.end(text)
  }

  function takeThrottle (service: ChatService): number | null {
    const t = throttled.get(service)
    if (t === undefined || t.count <= 0) return null
    t.count--
    return t.retryAfterS
  }

  const server = createServer((request, response) => {
    readBody(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://stand-in')
      const path = url.pathname
      const service: ChatService | null = SLACK_PATH.test(path) ? 'slack' : TEAMS_PATH.test(path) ? 'teams' : GCHAT_PATH.test(path) ? 'google_chat' : CHATWORK_PATH.test(path) ? 'chatwork' : WEBHOOK_PATH.test(path) ? 'webhook' : null
      if (request.method !== 'POST' || service === null) { send(response, 404, 'no_service'); return }
      requests.push({ service, path: `${path}${url.search}`, headers: request.headers, body, at: Date.now() })
      const contentType = String(request.headers['content-type'] ?? '')
      const wait = takeThrottle(service)
      switch (service) {
        case 'slack': {
          // Slack: text/plain answers; 429 rate_limited with Retry-After past one message a second.
          if (wait !== null) { send(response, 429, 'rate_limited', { 'retry-after': String(wait) }); return }
          const json = contentType.startsWith('application/json') ? parseJson(body) : null
          if (json === null) { send(response, 400, 'invalid_payload'); return }
          if ((typeof json.text !== 'string' || json.text === '') && !Array.isArray(json.blocks)) { send(response, 400, 'no_text'); return }
          send(response, 200, 'ok')
          return
        }
        case 'teams': {
          // A Workflows webhook accepts the request (202) and runs the flow; a body it cannot read is 400.
          if (wait !== null) { send(response, 429, { error: { code: 'WorkflowRequestsThrottled', message: 'Rate limit is exceeded.' } }, { 'retry-after': String(wait) }); return }
          if (url.searchParams.get('sig') === null || url.searchParams.get('api-version') === null) { send(response, 401, { error: { code: 'DirectApiAuthorizationRequired', message: 'The request must be authenticated.' } }); return }
          const json = parseJson(body)
          const attachments = json?.attachments as Array<{ contentType?: string, content?: { type?: string, body?: unknown[] } }> | undefined
          const card = attachments?.[0]
          if (json?.type !== 'message' || card?.contentType !== 'application/vnd.microsoft.card.adaptive' || card.content?.type !== 'AdaptiveCard' || !Array.isArray(card.content.body)) {
            send(response, 400, { error: { code: 'InvalidRequestContent', message: 'The request content is not a message with an Adaptive Card attachment.' } })
            return
          }
          response.writeHead(202).end()
          return
        }
        case 'google_chat': {
          if (url.searchParams.get('key') === null || url.searchParams.get('token') === null) { send(response, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } }); return }
          if (wait !== null) { send(response, 429, { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': String(wait) }); return }
          const json = contentType.startsWith('application/json') ? parseJson(body) : null
          if (json === null || ((typeof json.text !== 'string' || json.text === '') && json.cardsV2 === undefined)) {
            send(response, 400, { error: { code: 400, message: 'Message cannot be empty. Discarded message must have a text or a card.', status: 'INVALID_ARGUMENT' } })
            return
          }
          const space = GCHAT_PATH.exec(path)?.[1] ?? ''
          send(response, 200, { name: `spaces/${space}/messages/${randomUUID()}`, text: json.text, createTime: new Date().toISOString(), space: { name: `spaces/${space}` } })
          return
        }
        case 'chatwork': {
          if (request.headers['x-chatworktoken'] !== chatworkToken) { send(response, 401, { errors: ['Invalid API token'] }); return }
          if (wait !== null) { send(response, 429, { errors: ['Rate limit exceeded'] }, { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + wait) }); return }
          const form = contentType.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : null
          if (form === null || (form.get('body') ?? '') === '') { send(response, 400, { errors: ['Parameter body is required'] }); return }
          send(response, 200, { message_id: String(Math.floor(Math.random() * 1e9)) })
          return
        }
        case 'webhook': {
          const name = WEBHOOK_PATH.exec(path)?.[1] ?? ''
          const status = scripted.get(name)?.shift() ?? 204
          if (status === 204) { response.writeHead(204).end(); return }
          send(response, status, status >= 400 ? `stand-in receiver answered ${status}` : 'accepted')
        }
      }
    }).catch(() => { response.destroy() })
  })
  const url = await listenLocally(server)
  return {
    url,
    requests,
    urls: {
      slack: `${url}/services/T0001/B0001/${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      teams: `${url}/workflows/${teamsId}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${randomUUID().replace(/-/g, '')}`,
      googleChat: `${url}/v1/spaces/AAAA${randomUUID().replace(/-/g, '').slice(0, 7)}/messages?key=stand-in-key&token=${randomUUID().replace(/-/g, '')}`,
      chatworkApi: `${url}/v2`,
      webhook: (name) => `${url}/hooks/${name}`
    },
    chatworkToken,
    throttle: (service, count, retryAfterS) => { throttled.set(service, { count, retryAfterS }) },
    answerWith: (name, statuses) => { scripted.set(name, [...statuses]) },
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}
