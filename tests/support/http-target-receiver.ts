import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// A receiver at the other end of an HTTP target, as an n8n workflow or an in-house runner would
// be: it records each request (verified by the test with the Standard Webhooks library), starts a
// run per Idempotency-Key, answers scripted statuses when told to, and reports runs at
// /status/{runId}.

export interface ReceivedRequest { method: string, path: string, headers: Record<string, string | string[] | undefined>, body: string }

export interface HttpTargetReceiver {
  url: string
  requests: ReceivedRequest[]
  /** Runs started, by Idempotency-Key: a key sent again starts nothing new. */
  runs: Map<string, { runId: string, status: string, outputs?: Record<string, unknown>, info?: string }>
  /** The next launch requests are answered with these statuses (and no run), in order. */
  answerWith: (statuses: Array<number | { status: number, headers?: Record<string, string>, body?: string, delayMs?: number }>) => void
  /** Whether a started run's answer names a statusUrl. */
  giveStatusUrl: boolean
  /** Whether a key sent again starts a run again (a receiver that does not honour Idempotency-Key). */
  ignoreKeys: boolean
  close: () => Promise<void>
}

async function readBody (request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startHttpTargetReceiver (): Promise<HttpTargetReceiver> {
  const scripted: Array<{ status: number, headers?: Record<string, string>, body?: string, delayMs?: number }> = []
  let counter = 0
  const receiver: HttpTargetReceiver = {
    url: '',
    requests: [],
    runs: new Map(),
    answerWith: (statuses) => { scripted.push(...statuses.map((s) => typeof s === 'number' ? { status: s } : s)) },
    giveStatusUrl: false,
    ignoreKeys: false,
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) }
  }
  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers })
    response.end(JSON.stringify(body))
  }
  const server = createServer((request, response) => {
    readBody(request).then(async (body) => {
      const path = request.url ?? '/'
      receiver.requests.push({ method: request.method ?? '', path, headers: request.headers, body })
      const status = /^\/status\/([\w-]+)$/.exec(path)
      if (request.method === 'GET' && status !== null) {
        const run = [...receiver.runs.values()].find((r) => r.runId === status[1])
        if (run === undefined) return json(response, 404, { error: 'no such run' })
        return json(response, 200, { status: run.status, ...(run.outputs !== undefined ? { outputs: run.outputs } : {}), ...(run.info !== undefined ? { info: run.info } : {}) })
      }
      if (request.method !== 'POST' || path !== '/webhook/mailrun') return json(response, 404, { message: `The requested webhook "${request.method ?? ''} ${path}" is not registered.` })
      const next = scripted.shift()
      if (next !== undefined) {
        if (next.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, next.delayMs))
        response.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers })
        response.end(next.body ?? `scripted ${next.status}`)
        return
      }
      const key = String(request.headers['idempotency-key'] ?? '')
      const known = receiver.runs.get(key)
      const run = known !== undefined && !receiver.ignoreKeys ? known : { runId: `run-${++counter}`, status: 'running' }
      receiver.runs.set(receiver.ignoreKeys ? `${key}#${counter}` : key, run)
      json(response, 202, { runId: run.runId, ...(receiver.giveStatusUrl ? { statusUrl: `/status/${run.runId}` } : {}) })
    }).catch(() => { response.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return receiver
}
