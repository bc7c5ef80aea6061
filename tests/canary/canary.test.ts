import { sql } from 'kysely'
import type { Logger } from 'pino'
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createSweeper } from '../../src/imap/sweeper.js'
import { buildTestApp } from '../support/app.js'
import { startChatStandIns } from '../support/chat-stand-ins.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot } from '../support/dovecot.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher } from '../support/smtp.js'

// The canary against real servers: mailrun sends the mailbox a test email through its SMTP route
// (a real SMTP server here), the email is delivered to the mailbox (a real Dovecot, as the MTA
// would), and the IMAP sweep or a push door finds it. Found: recorded, nothing launched, nobody
// answered. Not found by the deadline: canary.missed (readyz and metrics too), then recovered.

const USER = 'robots@acme.example'
const PASS = 'imap-app-password'

t.test(`the canary on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const dovecot = await startDovecot(t, { [USER]: PASS })
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const smtp = await startSmtpCatcher()
  t.teardown(smtp.close)
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const { app, database, log } = await buildTestApp(t, { env: { MAILRUN_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` } })
  const db = database.db
  const setup = await setUpLaunching(app, sim, {}, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: USER, password: PASS } })
  const channel = (await setup.api('POST', '/api/v1/notification-channels', { name: 'Ops', kind: 'webhook', events: ['canary.missed', 'canary.recovered'], url: chat.urls.webhook('ops') })).json()
  const stopSweeper = createSweeper({ db, tokens: app.mailTokens, receiver: app.receiver, logger: log.logger as unknown as Logger, deny: 'none', intervalMs: 1000, lookbackMs: 600_000, leaseMs: 3000, holder: 'test' }).start()
  t.teardown(stopSweeper)
  await eventually(async () => (await db.selectFrom('imap_cursors').selectAll().execute()).length >= 2, 20_000)

  t.match((await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { canary: { intervalMinutes: 2 } })).json(), { statusCode: 400 }, 'intervals under 5 minutes are refused')
  t.match((await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { canary: { intervalMinutes: 5, deadlineSeconds: 30 } })).json(), { canary: { intervalMinutes: 5, deadlineSeconds: 30 }, canaryStatus: { state: null } })
  const messagesBefore = (await db.selectFrom('messages').select('id').execute()).length
  const canaryMails = () => smtp.received.filter((m) => m.mail.headers.has('x-mailrun-canary'))
  /** The next canary now: the last one is made older than the interval, and a pass sends. */
  const nextCanary = async () => {
    await sql`update canaries set created_at = created_at - interval '6 minutes'`.execute(db)
    const before = canaryMails().length
    t.match(await app.canaries.pass(), { sent: 1 })
    await eventually(async () => { await app.mailer.sendDue(); return canaryMails().length > before })
    return canaryMails().at(-1)!
  }

  t.test('sent through the mailbox route, found by the IMAP sweep, and dropped', async (t) => {
    const sentAt = Date.now()
    const canary = await nextCanary()
    t.same(canary.to, [USER])
    t.equal(canary.from, USER)
    t.equal(canary.mail.headers.get('auto-submitted'), 'auto-generated')
    t.equal(await app.canaries.pass().then((p) => p.sent), 0, 'one per interval')
    await dovecot.append(USER, 'INBOX', canary.raw)
    const status = await eventually(async () => { const m = (await setup.api('GET', `/api/v1/mailboxes/${setup.mailboxId}`)).json(); return m.canaryStatus.state === 'detected' && m.canaryStatus })
    t.match(status, { door: 'imap', detectionSeconds: Number })
    t.comment(`canary detected through IMAP ${status.detectionSeconds} s after it was queued (${Date.now() - sentAt} ms in this test, SMTP and delivery included)`)
    const pushed = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: canary.raw })).json()
    t.match(pushed, { status: 'ignored', reason: 'canary' }, 'found by a push door too: still ours, still dropped')
    t.equal((await db.selectFrom('messages').select('id').execute()).length, messagesBefore, 'no message stored, so nothing launched')
    t.equal((await db.selectFrom('notifications').select('id').where('kind', '!=', 'canary').execute()).length, 0, 'nobody answered')
  })

  t.test('a header that only looks like ours is ordinary mail', async (t) => {
    const canary = canaryMails().at(-1)!
    const token = String(canary.mail.headers.get('x-mailrun-canary')).split(':')[1] as string
    const forged = canary.raw.toString('latin1').replace(token, 'A'.repeat(token.length))
    t.not(forged, canary.raw.toString('latin1'))
    const answer = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: Buffer.from(forged, 'latin1') })).json()
    t.not(answer.reason, 'canary')
    t.equal((await db.selectFrom('messages').select('id').execute()).length, messagesBefore + 1, 'stored and decided like any message')
  })

  t.test('a canary not found by its deadline is missed, told once, and its return is told', async (t) => {
    const from = chat.requests.length
    await nextCanary()
    // Not delivered. Past the deadline:
    await sql`update canaries set created_at = now() - interval '31 seconds' where state = 'sent'`.execute(db)
    const missedAt = Date.now()
    t.match(await app.canaries.pass(), { missed: 1 })
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 503)
    t.match(ready.json().reason, `the canary of ${USER} was not found by its deadline`)
    t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /mailrun_canary_missed_mailboxes 1/)
    await app.incidents.watch()
    await app.alerts.deliverDue()
    const told = chat.requests.slice(from).map((r) => new Webhook(channel.signingSecret).verify(r.body, r.headers as Record<string, string>) as { type: string, data: Record<string, unknown> })
    t.match(told, [{ type: 'canary.missed', data: { mailboxId: setup.mailboxId, mailbox: USER } }])
    t.comment(`canary.missed delivered ${chat.requests.at(-1)!.at - missedAt} ms after the deadline passed (the watch runs every 15 s in the background)`)

    const next = await nextCanary()
    const pushed = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: next.raw })).json()
    t.equal(pushed.reason, 'canary')
    await app.incidents.watch()
    await app.alerts.deliverDue()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await app.alerts.deliverDue()
    const all = chat.requests.slice(from).map((r) => (JSON.parse(r.body) as { type: string }).type)
    t.same(all, ['canary.missed', 'canary.recovered'])
    t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  })
})
