import type { FastifyInstance } from 'fastify'
import { newTenant, type Client } from './admin.js'

export interface MailSetup {
  tenantId: string
  api: Client
  mailboxId: string
  ingressToken: string
  senderId: string
  robotId: string
}

/**
 * Through the admin API: a tenant, a mailbox, one allowed sender (anna@sender.example) and a robot
 * "Monthly Report" that declares a parameter and functions.
 */
export async function setUpMailbox (app: FastifyInstance, options: { tenant?: string, address?: string, mailbox?: Record<string, unknown> } = {}): Promise<MailSetup> {
  const address = options.address ?? 'robots@acme.example'
  const { id: tenantId, api } = await newTenant(app, options.tenant ?? 'Acme', 3, [address.slice(address.lastIndexOf('@') + 1)])
  const mailbox = await api('POST', '/api/v1/mailboxes', { address, ...options.mailbox })
  if (mailbox.statusCode !== 201) throw new Error(`mailbox: ${mailbox.body}`)
  const sender = (await api('POST', '/api/v1/senders', { fullName: 'Anna Petrova', email: 'anna@sender.example' })).json()
  const robot = await api('POST', '/api/v1/robots', {
    name: 'Monthly Report',
    processName: 'MonthlyReport',
    senderIds: [sender.id],
    parameters: [{ name: 'period', type: 'string', required: true }],
    functions: [
      { name: 'ExtractData', parameters: [{ name: 'region', type: 'string', required: true }, { name: 'currency', type: 'string' }] },
      { name: 'BuildReport' },
      { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }
    ]
  })
  if (robot.statusCode !== 201) throw new Error(`robot: ${robot.body}`)
  return { tenantId, api, mailboxId: mailbox.json().id, ingressToken: mailbox.json().ingressToken, senderId: sender.id, robotId: robot.json().id }
}
