import pg from 'pg'
import { startGraphStandIn } from '../tests/support/graph-stand-in.js'
import { startIdentityStandIn } from '../tests/support/identity-stand-in.js'
import { freePort } from '../tests/support/net.js'
import { percentiles, type Percentiles } from './support/load.js'
import { benchMessage } from './support/messages.js'
import { freshDatabase } from './support/targets.js'
import { LETTER, setUpTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

// Detection latency door by door, one message at a time (latency, not throughput): the raw MIME
// door, the SMTP door (nodemailer to mailrun's own SMTP server), Graph push (a stand-in that
// follows Graph's contract posts a change notification, mailrun fetches the MIME), and Graph's
// delta fallback (the notification lost on purpose). Detection = stored (received_at) − handed over.

export interface DoorsPlan { messages: number, intervalS: number, workDir: string }
export interface DoorsReport { messages: number, intervalS: number, doors: Array<{ door: string, latency: Percentiles }> }

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const normalise = (id: string | null): string => (id ?? '').replace(/^<|>$/g, '').toLowerCase()
const messageIdOf = (raw: Buffer): string => normalise(/^Message-ID: (.*)$/mi.exec(raw.toString('latin1'))?.[1] ?? null)

export async function benchDoors (plan: DoorsPlan, shared: Shared, report: (line: string) => void): Promise<DoorsReport> {
  const database = await freshDatabase('postgres')
  const sql = new pg.Pool({ connectionString: database.env.DATABASE_URL, max: 2 })
  const idp = await startIdentityStandIn()
  const graph = await startGraphStandIn(idp)
  const port = await freePort()
  const smtpPort = await freePort()
  const { service } = await startMailrun('postgres', {
    ...database.env,
    MAILRUN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    MAILRUN_SMTP_DOOR_PORT: String(smtpPort),
    MAILRUN_SWEEP_INTERVAL_S: String(plan.intervalS)
  }, shared, plan.workDir, [], port)
  const { default: nodemailer } = await import('nodemailer')
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true })
  try {
    idp.microsoftScopes.push(graph.scope)
    idp.microsoft.push({ tenant: 'bench.onmicrosoft.example', clientId: 'bench-app', secret: 'bench-graph-secret', mailboxes: [LETTER.to] })
    const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: shared.simulator.url, smtpPort: shared.smtpPort })
    await tenant.api.call('PATCH', `/api/v1/mailboxes/${tenant.mailboxId}`, { graph: { baseUrl: graph.url, auth: { kind: 'microsoft', tenantId: 'bench.onmicrosoft.example', clientId: 'bench-app', clientSecret: 'bench-graph-secret', authority: idp.url } } })
    for (let waited = 0; graph.subscriptions.size < 2; waited += 200) {
      if (waited > (plan.intervalS + 30) * 1000) throw new Error('doors bench: Graph subscriptions were not made')
      await sleep(200)
    }
    const storedAt = async (id: string, ms: number): Promise<number> => {
      const deadline = Date.now() + ms
      for (;;) {
        const row = (await sql.query('select received_at from messages where mailbox_id = $1 and lower(trim(both \'<>\' from message_id_header)) = $2', [tenant.mailboxId, id])).rows[0] as { received_at: Date } | undefined
        if (row !== undefined) return row.received_at.getTime()
        if (Date.now() > deadline) throw new Error(`doors bench: message ${id} was not stored within ${ms} ms`)
        await sleep(20)
      }
    }
    const doors: DoorsReport['doors'] = []
    const measure = async (door: string, count: number, hand: (raw: Buffer) => Promise<void>, waitMs: number): Promise<void> => {
      const latencies: number[] = []
      for (let i = 0; i < count; i++) {
        const raw = await benchMessage('small', LETTER, shared.key, `door-${door.replace(/\W+/g, '-')}-${i}`)
        const sent = Date.now()
        await hand(raw)
        latencies.push(await storedAt(messageIdOf(raw), waitMs) - sent)
      }
      const latency = percentiles(latencies)
      doors.push({ door, latency })
      report(`${door.padEnd(24)} p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms (${count} messages)`)
    }
    await measure('raw MIME (HTTP)', plan.messages, async (raw) => { await fetch(tenant.mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw }) }, 10_000)
    await measure('SMTP door', plan.messages, async (raw) => { await transport.sendMail({ envelope: { from: 'anna@finance.example', to: [LETTER.to] }, raw }) }, 10_000)
    await measure('Graph push', plan.messages, async (raw) => { await graph.deliver(LETTER.to, 'inbox', raw) }, 10_000)
    // Lost notifications: only the delta pass (every interval) finds them; a few suffice.
    await measure('Graph delta (no notice)', Math.max(2, Math.ceil(plan.messages / 10)), async (raw) => { await graph.deliver(LETTER.to, 'junkemail', raw, { notify: false }) }, (plan.intervalS * 2 + 30) * 1000)
    return { messages: plan.messages, intervalS: plan.intervalS, doors }
  } finally {
    transport.close()
    await service.stop()
    await graph.close()
    await idp.close()
    await sql.end()
    await database.drop()
  }
}
