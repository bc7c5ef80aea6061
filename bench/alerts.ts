import { existsSync } from 'node:fs'
import { startChatStandIns, type ChatRequest } from '../src/simulator/chat-services.js'
import { startOrchestratorSimulator } from '../src/simulator/orchestrator.js'
import { launchDovecot } from '../tests/support/dovecot.js'
import { buildMessage, signMessage } from '../tests/support/mail.js'
import { freePort } from '../tests/support/net.js'
import { freshDatabase } from './support/targets.js'
import { LETTER, setUpTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

// How soon a team hears of trouble (#30): mailrun as its own process with its real background
// loops (alerts every second, the incident watch every 15 s, canaries every 10 s), PostgreSQL,
// each event from a real cause — a job faulted at the Orchestrator simulator (its webhook), a
// process that does not exist, a refused client secret, an SMTP server that is gone, an IMAP
// server stopped and started (Dovecot), a canary never delivered — timed from the cause to the
// signed delivery at a local webhook receiver. MAILRUN_ALERT_AFTER_S is lowered for the run; its
// default (300 s) adds to the mailbox and reply figures.

export interface AlertsPlan { afterS: number, full: boolean, workDir: string }
export interface AlertsReport { afterS: number, events: Array<{ event: string, cause: string, ms: number | null }> }

const WEBHOOK_SECRET = 'bench-webhook-secret-0001'
const IMAP_USER = 'robots@acme.example'
const IMAP_PASS = 'bench-imap-password'

export async function benchAlerts (plan: AlertsPlan, shared: Shared, log: (line: string) => void): Promise<AlertsReport> {
  const database = await freshDatabase('postgres')
  const hook = { url: '' }
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'], webhook: { get url () { return hook.url }, secret: WEBHOOK_SECRET } })
  const chat = await startChatStandIns()
  const dovecot = plan.full && existsSync('/usr/sbin/dovecot') ? await launchDovecot({ [IMAP_USER]: IMAP_PASS }) : null
  const port = await freePort()
  const { service } = await startMailrun('postgres', { ...database.env, MAILRUN_ALERT_AFTER_S: String(plan.afterS), MAILRUN_PUBLIC_URL: `http://127.0.0.1:${port}`, MAILRUN_SWEEP_INTERVAL_S: '5' }, shared, plan.workDir, [], port)
  const report: AlertsReport = { afterS: plan.afterS, events: [] }
  try {
    const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: sim.url, smtpPort: shared.smtpPort })
    const connection = { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance', webhookSecret: WEBHOOK_SECRET }
    hook.url = String((await tenant.api.call('PUT', '/api/v1/orchestrator', connection)).webhookUrl)
    await tenant.api.call('POST', '/api/v1/notification-channels', { name: 'Bench', kind: 'webhook', events: ['job.faulted', 'launch.failed', 'orchestrator.failing', 'replies.failing', 'mailbox.failing', 'mailbox.recovered', 'canary.missed'], url: chat.urls.webhook('bench') })
    await tenant.api.call('POST', '/api/v1/robots', { name: 'Ghost', processName: 'GhostProcess', allowAllSenders: true })
    let n = 0
    const send = async (subject = LETTER.subject): Promise<Record<string, any>> => {
      const raw = await signMessage(buildMessage({ from: LETTER.from, subject, body: LETTER.command, messageId: `<alerts-${n++}-${Date.now()}@finance.example>` }), shared.key)
      const res = await fetch(tenant.mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw })
      return await res.json() as Record<string, any>
    }
    /** Waits for the next delivery of `type`; answers the ms from `cause`, or null past `ms`. */
    const told = async (type: string, cause: number, ms = 60_000): Promise<number | null> => {
      const seen = (r: ChatRequest): boolean => r.at >= cause && (JSON.parse(r.body) as { type: string }).type === type
      const until = Date.now() + ms
      while (Date.now() < until) {
        const hit = chat.requests.find(seen)
        if (hit !== undefined) return hit.at - cause
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return null
    }
    const measure = async (event: string, cause: string, act: () => Promise<number>, ms?: number): Promise<void> => {
      // The channel takes one request a second: each cause comes after the last alert's second.
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const at = await act()
      const took = await told(event, at, ms)
      report.events.push({ event, cause, ms: took })
      log(`${event}: ${took === null ? 'not told' : `${took} ms`} after ${cause}`)
    }

    const launched = await send()
    await measure('job.faulted', 'the job faulted at the simulator (its webhook)', async () => {
      const at = Date.now()
      await sim.setJobState(launched.launch.jobId, 'Faulted', { info: 'Element not found' })
      return at
    })
    await measure('launch.failed', 'a command to a process that does not exist was posted', async () => { const at = Date.now(); await send('Ghost'); return at })
    await measure('orchestrator.failing', 'a launch met a refused client secret', async () => {
      await tenant.api.call('PUT', '/api/v1/orchestrator', { ...connection, clientSecret: 'a-revoked-secret' })
      const at = Date.now()
      await send()
      return at
    })
    await tenant.api.call('PUT', '/api/v1/orchestrator', connection)
    if (!plan.full) return report

    const closed = await freePort()
    await measure('replies.failing', 'a reply was queued for an SMTP server that is gone', async () => {
      await tenant.api.call('PATCH', `/api/v1/mailboxes/${tenant.mailboxId}`, { smtp: { host: '127.0.0.1', port: closed, tls: false } })
      const at = Date.now()
      await send()
      return at
    }, (plan.afterS + 60) * 1000)
    await tenant.api.call('PATCH', `/api/v1/mailboxes/${tenant.mailboxId}`, { smtp: { host: '127.0.0.1', port: shared.smtpPort, tls: false, fromName: 'Acme robots' } })

    if (dovecot !== null) {
      await tenant.api.call('PATCH', `/api/v1/mailboxes/${tenant.mailboxId}`, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: IMAP_USER, password: IMAP_PASS } })
      const swept = Date.now() + 30_000
      while (Date.now() < swept && (await tenant.api.call('GET', `/api/v1/mailboxes/${tenant.mailboxId}`) as { imapStatus: { lastSweptAt: string | null } }).imapStatus.lastSweptAt === null) await new Promise((resolve) => setTimeout(resolve, 200))
      await measure('mailbox.failing', 'the IMAP server went down', async () => { const at = Date.now(); await dovecot.kick(IMAP_USER); await dovecot.stop(); return at }, (plan.afterS + 60) * 1000)
      await measure('mailbox.recovered', 'the IMAP server came back', async () => { const at = Date.now(); await dovecot.start(); return at }, 90_000)
    } else log('mailbox.failing: skipped, Dovecot is not installed')

    await tenant.api.call('PATCH', `/api/v1/mailboxes/${tenant.mailboxId}`, { canary: { intervalMinutes: 5, deadlineSeconds: 30 } })
    const sentAt = await (async () => {
      const until = Date.now() + 30_000
      while (Date.now() < until) {
        const status = (await tenant.api.call('GET', `/api/v1/mailboxes/${tenant.mailboxId}`) as { canaryStatus: { lastSentAt: string | null } }).canaryStatus
        if (status.lastSentAt !== null) return Date.parse(status.lastSentAt)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      return null
    })()
    // The canary goes to the SMTP catcher and is never delivered to the mailbox: missed at its deadline.
    if (sentAt !== null) await measure('canary.missed', 'the canary\'s deadline (30 s) passed', async () => sentAt + 30_000, 90_000)
    return report
  } finally {
    await service.stop()
    await chat.close()
    await sim.close()
    await dovecot?.destroy()
    await database.drop()
  }
}
