// The tenant every benchmark uses, set up through the admin API as an operator would.

export const ROBOT = {
  name: 'Monthly Report',
  processName: 'MonthlyReport',
  parameters: [{ name: 'period', type: 'string', required: true }],
  functions: [{ name: 'ExtractData', parameters: [{ name: 'region', type: 'string', required: true }] }, { name: 'BuildReport' }, { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }]
}
export const COMMAND = 'period = 2026-10\nExtractData: region = North\nBuildReport\nSendReport: to = "cfo@acme.example"\n-- \nAnna'
export const SENDER = { fullName: 'Anna Petrova', email: 'anna@finance.example' }
/** What the sender writes: the robot in the subject, the command in the body. */
export const LETTER = { from: `${SENDER.fullName} <${SENDER.email}>`, to: 'robots@acme.example', subject: ROBOT.name, command: COMMAND }

export class AdminApi {
  constructor (readonly base: string, readonly key: string) {}

  async call (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.base}${path}`, { method, headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const json = res.status === 204 ? {} : await res.json() as Record<string, unknown>
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`)
    return json
  }
}

export interface BenchTenant { api: AdminApi, mimeUrl: string, mailboxId: string, senderId: string }

/** A tenant with an Orchestrator connection to the simulator, one mailbox, one sender and the robot. */
export async function setUpTenant (base: string, adminKey: string, options: { simulatorUrl: string, smtpPort: number, maxMailboxes?: number, imap?: Record<string, unknown> }): Promise<BenchTenant> {
  const admin = new AdminApi(base, adminKey)
  const tenant = await admin.call('POST', '/api/v1/tenants', { name: 'Bench Finance', maxMailboxes: options.maxMailboxes ?? 1, locale: 'en', contactEmail: 'rpa-team@acme.example', domains: ['acme.example'] })
  const api = new AdminApi(base, String((await admin.call('POST', `/api/v1/tenants/${String(tenant.id)}/api-keys`, { name: 'bench' })).key))
  await api.call('PUT', '/api/v1/orchestrator', { kind: 'cloud', url: options.simulatorUrl, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance' })
  const mailbox = await api.call('POST', '/api/v1/mailboxes', { address: 'robots@acme.example', smtp: { host: '127.0.0.1', port: options.smtpPort, tls: false, fromName: 'Acme robots' }, ...(options.imap !== undefined ? { imap: options.imap } : {}) })
  const sender = await api.call('POST', '/api/v1/senders', SENDER)
  await api.call('POST', '/api/v1/robots', { ...ROBOT, senderIds: [sender.id] })
  const mimeUrl = String((mailbox.ingressUrls as Record<string, string>).mime).replace(/^https?:\/\/[^/]+/, base)
  return { api, mimeUrl, mailboxId: String(mailbox.id), senderId: String(sender.id) }
}
