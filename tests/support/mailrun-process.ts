import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { ADMIN_KEY } from './admin.js'
import { buildMessage } from './mail.js'
import type { OrchestratorSimulator } from './orchestrator-simulator.js'
import { startServer, type RunningProcess } from './process.js'

// mailrun as its own process, reached over HTTP: for faults a process must survive (or not).

export interface MailrunProcess extends RunningProcess {
  url: string
}

export const SECRET_KEY = randomBytes(32).toString('base64')

export async function startMailrun (t: Test, env: Record<string, string>): Promise<MailrunProcess> {
  const server = startServer({ HOST: '127.0.0.1', PORT: '0', MAILRUN_ADMIN_KEY: ADMIN_KEY, MAILRUN_SECRET_KEY: SECRET_KEY, MAILRUN_OUTBOUND_DENY: 'none', LOG_LEVEL: 'info', ...env })
  t.teardown(() => { if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL') })
  const [, url] = await server.waitFor(/mailrun listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000)
  return { ...server, url: url ?? '' }
}

async function call (url: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  return { status: res.status, json: text === '' ? null : JSON.parse(text) }
}

export interface RemoteTenant { ingressToken: string, key: string }

/** Through the admin API over HTTP: a tenant connected to the simulator, a mailbox (sender authentication off), a sender and the robot "Monthly Report". */
export async function setUpRemoteTenant (url: string, sim: OrchestratorSimulator): Promise<RemoteTenant> {
  const must = async (what: string, answer: Promise<{ status: number, json: any }>): Promise<any> => {
    const { status, json } = await answer
    if (status >= 300) throw new Error(`${what}: ${status} ${JSON.stringify(json)}`)
    return json
  }
  const tenant = await must('tenant', call(url, ADMIN_KEY, 'POST', '/api/v1/tenants', { name: `Acme ${randomBytes(3).toString('hex')}`, maxMailboxes: 3, domains: ['acme.example'] }))
  const { key } = await must('key', call(url, ADMIN_KEY, 'POST', `/api/v1/tenants/${String(tenant.id)}/api-keys`, { name: 'faults' }))
  const mailbox = await must('mailbox', call(url, key, 'POST', '/api/v1/mailboxes', { address: 'robots@acme.example', senderAuth: 'off' }))
  const sender = await must('sender', call(url, key, 'POST', '/api/v1/senders', { fullName: 'Anna Petrova', email: 'anna@sender.example' }))
  await must('robot', call(url, key, 'POST', '/api/v1/robots', { name: 'Monthly Report', processName: 'MonthlyReport', senderIds: [sender.id], parameters: [{ name: 'period', type: 'string', required: true }] }))
  await must('connection', call(url, key, 'PUT', '/api/v1/orchestrator', {
    kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance'
  }))
  return { ingressToken: mailbox.ingressToken, key }
}

/** A command email with this Message-ID, posted to the raw MIME door; answers the HTTP status (0: no answer) and the body. */
export async function postCommand (url: string, ingressToken: string, messageId: string): Promise<{ status: number, json: any }> {
  try {
    const res = await fetch(`${url}/inbound/${ingressToken}/mime`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-11', messageId }),
      signal: AbortSignal.timeout(30_000)
    })
    const text = await res.text()
    return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text }
  } catch {
    return { status: 0, json: null }
  }
}
