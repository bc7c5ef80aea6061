import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { OrchestratorSimulator } from './orchestrator-simulator.js'
import { buildMessage } from './mail.js'
import { setUpMailbox, type MailSetup } from './tenant-setup.js'

export const WEBHOOK_SECRET = 'simulator-webhook-secret-0001'

export interface LaunchSetup extends MailSetup {
  connectionId: string
  /** Sends a command email through the raw MIME door. */
  send: (body?: string, options?: { subject?: string, messageId?: string, from?: string, headers?: Record<string, string> }) => Promise<LightMyRequestResponse>
}

/** A mailbox (sender authentication off, to keep these tests about launching) connected to the simulator. */
export async function setUpLaunching (app: FastifyInstance, sim: OrchestratorSimulator, connection: Record<string, unknown> = {}, mailbox: Record<string, unknown> = {}, tenant: { tenant?: string, address?: string } = {}): Promise<LaunchSetup> {
  const setup = await setUpMailbox(app, { ...tenant, mailbox: { senderAuth: 'off', ...mailbox } })
  const put = await setup.api('PUT', '/api/v1/orchestrator', {
    kind: 'cloud',
    url: sim.url,
    organization: 'acme',
    tenantName: 'DefaultTenant',
    authMode: 'client_credentials',
    clientId: 'sim-client',
    clientSecret: 'sim-secret',
    defaultFolder: 'Finance',
    webhookSecret: WEBHOOK_SECRET,
    ...connection
  })
  if (put.statusCode !== 200) throw new Error(`connection: ${put.body}`)
  let n = 0
  const send = async (body = 'period = 2026-10\nExtractData: region = North\nBuildReport', options: { subject?: string, messageId?: string, from?: string, headers?: Record<string, string> } = {}) => await app.inject({
    method: 'POST',
    url: `/inbound/${setup.ingressToken}/mime`,
    headers: { 'content-type': 'message/rfc822' },
    payload: buildMessage({ from: options.from ?? 'Anna Petrova <anna@sender.example>', subject: options.subject ?? 'Monthly Report', body, messageId: options.messageId ?? `<launch-${Date.now()}-${n++}@sender.example>`, ...(options.headers !== undefined ? { headers: options.headers } : {}) })
  })
  return { ...setup, connectionId: put.json().id, send }
}

/** A second sender on the tenant's allow-list, also allowed to run the robot; answers their id. */
export async function addAllowedSender (setup: MailSetup, fullName: string, email: string): Promise<string> {
  const sender = await setup.api('POST', '/api/v1/senders', { fullName, email })
  if (sender.statusCode !== 201) throw new Error(`sender: ${sender.body}`)
  const robot = (await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json()
  const patched = await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { senderIds: [...robot.senderIds, sender.json().id] })
  if (patched.statusCode !== 200) throw new Error(`robot: ${patched.body}`)
  return sender.json().id as string
}

/** Waits until `check` holds, polling; fails after `ms`. */
export async function eventually<T> (check: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== null && value !== false) return value
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
