import { sql } from 'kysely'
import type { Logger } from 'pino'
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { createSweeper } from '../../src/imap/sweeper.js'
import { buildTestApp } from '../support/app.js'
import { startChatStandIns, type ChatRequest } from '../support/chat-stand-ins.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot } from '../support/dovecot.js'
import { eventually, setUpLaunching, WEBHOOK_SECRET } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher } from '../support/smtp.js'

// Conditions the team hears of once, from real causes: Dovecot stopped (mailbox.failing, then
// mailbox.recovered), the SMTP server away (replies.failing), Orchestrator refusing the credentials
// (orchestrator.failing), a message left undecided (messages.stuck). The times from cause to
// delivered alert are printed for the closing note (with MAILRUN_ALERT_AFTER_S=1).

const USER = 'robots@acme.example'
const PASS = 'imap-app-password'
const EVENTS = ['mailbox.failing', 'mailbox.recovered', 'orchestrator.failing', 'replies.failing', 'messages.stuck']

t.test(`incidents told once and closed, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const dovecot = await startDovecot(t, { [USER]: PASS })
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const smtp = await startSmtpCatcher()
  t.teardown(smtp.close)
  const { app, database, log } = await buildTestApp(t, { env: { MAILRUN_ALERT_AFTER_S: '1', MAILRUN_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` } })
  const db = database.db
  const setup = await setUpLaunching(app, sim, {}, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: USER, password: PASS } })
  const channel = (await setup.api('POST', '/api/v1/notification-channels', { name: 'Ops', kind: 'webhook', events: EVENTS, url: chat.urls.webhook('ops') })).json()
  const hook = new Webhook(channel.signingSecret)
  const stopSweeper = createSweeper({ db, tokens: app.mailTokens, receiver: app.receiver, logger: log.logger as unknown as Logger, deny: 'none', intervalMs: 1000, lookbackMs: 600_000, leaseMs: 3000, holder: 'test' }).start()
  t.teardown(stopSweeper)

  /** Runs the watch and the delivery passes, as the background loops do, until an event of `type` arrives. */
  const told = async (type: string, from: number, ms = 30_000): Promise<{ type: string, data: Record<string, unknown>, at: number }> => {
    const request = await eventually(async () => {
      await app.incidents.watch()
      await app.alerts.deliverDue()
      return chat.requests.slice(from).find((r: ChatRequest) => (JSON.parse(r.body) as { type: string }).type === type)
    }, ms)
    return { ...(hook.verify(request.body, request.headers as Record<string, string>) as { type: string, data: Record<string, unknown> }), at: request.at }
  }

  /** The events of one kind told since `from` (other incidents of the run may be told meanwhile). */
  const toldOf = (type: string, from: number): number => chat.requests.slice(from).filter((r) => (JSON.parse(r.body) as { type: string }).type === type).length

  t.test('a mailbox that cannot be read is told once, and its recovery', async (t) => {
    await eventually(async () => (await db.selectFrom('mailboxes').select('imap_last_swept_at').where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()).imap_last_swept_at !== null, 20_000)
    const from = chat.requests.length
    const cause = Date.now()
    // Stopping the master leaves running sessions be: they are ended first, as a server going down does.
    await dovecot.kick(USER)
    await dovecot.stop()
    const failing = await told('mailbox.failing', from)
    t.match(failing.data, { mailboxId: setup.mailboxId, mailbox: USER, error: String })
    t.comment(`mailbox.failing delivered ${failing.at - cause} ms after Dovecot stopped (MAILRUN_ALERT_AFTER_S=1)`)
    for (let i = 0; i < 3; i++) { await app.incidents.watch(); await app.alerts.deliverDue() }
    t.equal(toldOf('mailbox.failing', from), 1, 'one event for the incident, not one per failed attempt')

    const back = Date.now()
    await dovecot.start()
    const recovered = await told('mailbox.recovered', from)
    t.match(recovered.data, { mailboxId: setup.mailboxId, mailbox: USER, failingSince: String })
    t.comment(`mailbox.recovered delivered ${recovered.at - back} ms after Dovecot started again`)
    t.equal(await db.selectFrom('incidents').select('id').where('closed_at', 'is', null).execute().then((r) => r.length), 0)
  })

  t.test('a failing mailbox that is switched off is closed without "recovered"', async (t) => {
    const from = chat.requests.length
    await dovecot.kick(USER)
    await dovecot.stop()
    await told('mailbox.failing', from)
    t.equal((await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { active: false })).statusCode, 200)
    await app.incidents.watch()
    await app.alerts.deliverDue()
    t.equal(toldOf('mailbox.failing', from), 1)
    t.equal(toldOf('mailbox.recovered', from), 0, 'not told as recovered')
    t.equal((await db.selectFrom('incidents').select('id').where('kind', '=', 'mailbox.failing').where('closed_at', 'is', null).execute()).length, 0, 'closed')
    await dovecot.start()
    t.equal((await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { active: true })).statusCode, 200)
  })

  t.test('replies the SMTP server refuses are told once', async (t) => {
    await smtp.stop()
    const from = chat.requests.length
    const cause = Date.now()
    const launch = (await setup.send()).json()
    t.equal(launch.status, 'accepted')
    await app.mailer.sendDue()
    const failing = await told('replies.failing', from)
    t.match(failing.data, { mailboxId: setup.mailboxId, mailbox: USER, waiting: 1, error: /ECONNREFUSED|connect/ })
    t.comment(`replies.failing delivered ${failing.at - cause} ms after the reply was queued with the SMTP server down`)
    await smtp.start()
    await db.updateTable('notifications').set({ next_attempt_at: new Date() }).where('state', '=', 'pending').execute()
    await eventually(async () => { await app.mailer.sendDue(); return smtp.received.length > 0 })
    await app.incidents.watch()
    t.equal((await db.selectFrom('incidents').select('closed_at').where('kind', '=', 'replies.failing').executeTakeFirstOrThrow()).closed_at instanceof Date, true, 'closed once a reply goes')
  })

  t.test('Orchestrator refusing the credentials is told once', async (t) => {
    const from = chat.requests.length
    t.equal((await setup.api('PUT', '/api/v1/orchestrator', { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'a-revoked-secret', defaultFolder: 'Finance', webhookSecret: WEBHOOK_SECRET })).statusCode, 200)
    const cause = Date.now()
    const failed = (await setup.send()).json()
    t.equal(failed.launch.state, 'failed')
    const failing = await told('orchestrator.failing', from)
    t.match(failing.data, { launchId: failed.launch.id, robot: 'Monthly Report', error: /authentication \(client_credentials\) failed/ })
    t.comment(`orchestrator.failing delivered ${failing.at - cause} ms after the refused launch`)
    await setup.send()
    await app.incidents.watch()
    await app.alerts.deliverDue()
    t.equal(toldOf('orchestrator.failing', from), 1, 'a second refused launch adds nothing')
    t.equal((await setup.api('PUT', '/api/v1/orchestrator', { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance', webhookSecret: WEBHOOK_SECRET })).statusCode, 200)
    t.equal((await setup.send()).json().launch.state, 'launched')
    await app.incidents.watch()
    t.ok((await db.selectFrom('incidents').select('closed_at').where('kind', '=', 'orchestrator.failing').executeTakeFirstOrThrow()).closed_at, 'closed by a launch that works')
  })

  t.test('messages left undecided are told once, even by two watchers at once', async (t) => {
    const from = chat.requests.length
    const sent = (await setup.send()).json()
    // As a crash between storing and deciding leaves it, five minutes ago.
    await sql`update messages set status = 'received', received_at = now() - interval '6 minutes' where id = ${sent.message as string}`.execute(db)
    const [a, b] = await Promise.all([app.incidents.watch(), app.incidents.watch()])
    t.equal(a.opened + b.opened, 1, 'one incident')
    const stuck = await told('messages.stuck', from)
    t.match(stuck.data, { count: 1, oldest: String })
    t.equal(toldOf('messages.stuck', from), 1)
  })
})

t.test('an incident alert reads in the tenant\'s language', async (t) => {
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim, { clientSecret: 'a-revoked-secret' })
  const { client, ADMIN_KEY } = await import('../support/admin.js')
  await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })
  await setup.api('POST', '/api/v1/notification-channels', { name: 'Slack', kind: 'slack', events: ['orchestrator.failing'], url: chat.urls.slack })
  t.equal((await setup.send()).json().launch.state, 'failed')
  await app.incidents.watch()
  await app.alerts.deliverDue()
  const text = (JSON.parse(chat.requests[0]!.body) as { text: string }).text
  t.match(text, /^\*Orchestrator отказывает mailrun\*\nЗапуски не удаются: /)
  t.match(text, 'Проверьте подключение к Orchestrator.')
  t.match(text, /console\/orchestrator\|Открыть в mailrun>$/)
})
