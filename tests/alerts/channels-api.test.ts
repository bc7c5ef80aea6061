import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { startChatStandIns } from '../support/chat-stand-ins.js'
import { testDatabaseKind } from '../support/database.js'
import { startSmtpCatcher } from '../support/smtp.js'
import { eventually } from '../support/launching.js'

// The channels API: secrets write-only and sealed, each kind takes what it needs and says what is
// missing, tenants never reach each other's channels, and a test message answers how it went.

t.test(`notification channels through the admin API on ${testDatabaseKind}`, async (t) => {
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const smtp = await startSmtpCatcher()
  t.teardown(smtp.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_CHATWORK_API_URL: chat.urls.chatworkApi, MAILRUN_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` } })
  const db = database.db
  const acme = await newTenant(app, 'Acme')
  const other = await newTenant(app, 'Other')

  t.test('a webhook channel answers its signing secret once; the URL and secrets are never shown back, and sealed at rest', async (t) => {
    const created = await acme.api('POST', '/api/v1/notification-channels', { name: 'Tickets', kind: 'webhook', events: ['job.faulted'], url: chat.urls.webhook('tickets') })
    t.equal(created.statusCode, 201, created.body)
    const channel = created.json()
    t.match(channel, { kind: 'webhook', events: ['job.faulted'], urlHost: chat.url, secret: { set: true }, token: { set: false }, signingSecret: /^whsec_[A-Za-z0-9+/=]{32}$/ })
    const slackToken = new URL(chat.urls.slack).pathname.split('/').pop() as string
    const slack = (await acme.api('POST', '/api/v1/notification-channels', { name: 'Slack', kind: 'slack', events: ['job.faulted'], url: chat.urls.slack })).json()
    const chatwork = (await acme.api('POST', '/api/v1/notification-channels', { name: 'Chatwork', kind: 'chatwork', events: ['job.faulted'], roomId: '42', token: chat.chatworkToken })).json()
    t.match(chatwork, { token: { set: true }, roomId: '42' })
    for (const answer of [await acme.api('GET', `/api/v1/notification-channels/${String(channel.id)}`), await acme.api('GET', '/api/v1/notification-channels'), await acme.api('GET', `/api/v1/notification-channels/${String(slack.id)}`)]) {
      t.notMatch(answer.body, /whsec_|signingSecret/)
      t.notMatch(answer.body, slackToken)
      t.notMatch(answer.body, chat.chatworkToken)
    }
    const stored = JSON.stringify(await db.selectFrom('notification_channels').selectAll().execute())
    t.notMatch(stored, slackToken, 'the Slack URL is sealed')
    t.notMatch(stored, chat.chatworkToken, 'the Chatwork token is sealed')
    t.notMatch(stored, channel.signingSecret.slice(6), 'the signing secret is sealed')
  })

  t.test('each kind says what it is missing, and refuses what it does not take', async (t) => {
    const post = async (body: Record<string, unknown>) => await acme.api('POST', '/api/v1/notification-channels', body)
    t.match((await post({ name: 'a', kind: 'slack', events: ['job.faulted'] })).json(), { statusCode: 400, message: /url is required for a slack channel/ })
    t.match((await post({ name: 'b', kind: 'chatwork', events: ['job.faulted'], roomId: '1' })).json(), { statusCode: 400, message: /token is required/ })
    t.match((await post({ name: 'c', kind: 'chatwork', events: ['job.faulted'], token: 'x' })).json(), { statusCode: 400, message: /roomId is required/ })
    t.match((await post({ name: 'd', kind: 'email', events: ['job.faulted'], url: 'https://example.com/' })).json(), { statusCode: 400, message: /url is not used by a email channel/ })
    t.match((await post({ name: 'e', kind: 'webhook', events: ['job.exploded'], url: 'https://example.com/' })).json(), { statusCode: 400 })
    t.match((await post({ name: 'f', kind: 'webhook', events: [], url: 'https://example.com/' })).json(), { statusCode: 400 })
    t.match((await post({ name: 'g', kind: 'webhook', events: ['job.faulted'], url: '…' })).json(), { statusCode: 400 })
    t.match((await post({ name: 'Tickets', kind: 'webhook', events: ['job.faulted'], url: 'https://example.com/' })).json(), { statusCode: 409, message: /named "Tickets" exists/ })
  })

  t.test("another tenant's channel does not exist for this one", async (t) => {
    const mine = (await acme.api('GET', '/api/v1/notification-channels')).json().items[0]
    for (const [method, path, body] of [['GET', ''], ['PATCH', '', { name: 'x' }], ['DELETE', ''], ['POST', '/test'], ['GET', '/deliveries']] as const) {
      const answer = await other.api(method, `/api/v1/notification-channels/${String(mine.id)}${path}`, body)
      t.equal(answer.statusCode, 404, `${method} ${path}`)
    }
    t.same((await other.api('GET', '/api/v1/notification-channels')).json().items, [])
  })

  t.test('the test message: ok for a channel that takes it, the answer of one that does not', async (t) => {
    const channels = (await acme.api('GET', '/api/v1/notification-channels')).json().items as Array<{ id: string, name: string }>
    const id = (name: string): string => (channels.find((c) => c.name === name) as { id: string }).id
    const slack = await acme.api('POST', `/api/v1/notification-channels/${id('Slack')}/test`)
    t.match(slack.json(), { ok: true, delivery: { event: 'test', state: 'sent', attempts: 1, lastStatus: 200, lastAnswer: '200 ok' } })
    t.match(JSON.parse(chat.requests[chat.requests.length - 1]!.body), { text: /The channel "Slack" works/ })

    const wrong = await acme.api('POST', '/api/v1/notification-channels', { name: 'Wrong token', kind: 'chatwork', events: ['job.faulted'], roomId: '42', token: 'not-the-token' })
    const failed = (await acme.api('POST', `/api/v1/notification-channels/${String(wrong.json().id)}/test`)).json()
    t.match(failed, { ok: false, delivery: { state: 'pending', attempts: 1, lastStatus: 401, lastAnswer: /Invalid API token/ } })
    t.match((await acme.api('GET', `/api/v1/notification-channels/${String(wrong.json().id)}`)).json(), { failingSince: String, lastError: /401/ })
  })

  t.test('rotating the signing secret answers the new one once; deliveries are signed with it', async (t) => {
    const tickets = ((await acme.api('GET', '/api/v1/notification-channels')).json().items as Array<{ id: string, name: string }>).find((c) => c.name === 'Tickets') as { id: string }
    const rotated = (await acme.api('PATCH', `/api/v1/notification-channels/${tickets.id}`, { rotateSecret: true })).json()
    t.match(rotated.signingSecret, /^whsec_/)
    t.match((await acme.api('POST', `/api/v1/notification-channels/${tickets.id}/test`)).json(), { ok: true })
    const request = chat.requests[chat.requests.length - 1]!
    t.match(new Webhook(rotated.signingSecret).verify(request.body, request.headers as Record<string, string>), { type: 'test', data: { channel: 'Tickets' } })
    t.match((await acme.api('PATCH', `/api/v1/notification-channels/${String(rotated.id)}`, { roomId: '1' })).json(), { statusCode: 400, message: /roomId is not used by a webhook channel/ })
  })

  t.test("an email channel writes to its addresses, or to the tenant's admins, from the tenant's mailbox", async (t) => {
    const noMailbox = (await acme.api('POST', '/api/v1/notification-channels', { name: 'Mail', kind: 'email', events: ['job.faulted'], recipients: ['oncall@acme.example'] })).json()
    t.match((await acme.api('POST', `/api/v1/notification-channels/${String(noMailbox.id)}/test`)).json(), { ok: false, delivery: { lastAnswer: /no mailbox to send alerts from/ } })
    t.equal((await acme.api('POST', '/api/v1/mailboxes', { address: 'robots@acme.example' })).statusCode, 201)
    t.match((await acme.api('POST', `/api/v1/notification-channels/${String(noMailbox.id)}/test`)).json(), { ok: true, delivery: { lastAnswer: 'queued for 1 recipient' } })
    t.equal((await client(app, ADMIN_KEY)('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga', role: 'admin', tenantId: acme.id })).statusCode, 201)
    const admins = (await acme.api('POST', '/api/v1/notification-channels', { name: 'Admins', kind: 'email', events: ['job.faulted'] })).json()
    t.match((await acme.api('POST', `/api/v1/notification-channels/${String(admins.id)}/test`)).json(), { ok: true })
    await eventually(async () => { await app.mailer.sendDue(); return smtp.received.length >= 2 })
    const to = smtp.received.map((m) => m.to.join(','))
    t.same(to.sort(), ['olga@acme.example', 'oncall@acme.example'])
    t.equal(smtp.received[0]!.mail.subject, '[mailrun] mailrun: test message')
    t.equal(smtp.received[0]!.from, 'robots@acme.example')
  })

  t.test("a channel failing for a day is told to the tenant's admins by email, once", async (t) => {
    const down = (await acme.api('POST', '/api/v1/notification-channels', { name: 'Down', kind: 'webhook', events: ['job.faulted'], url: chat.urls.webhook('down') })).json()
    chat.answerWith('down', [500, 500, 500, 500])
    t.match((await acme.api('POST', `/api/v1/notification-channels/${String(down.id)}/test`)).json(), { ok: false })
    const toldEmails = async () => await db.selectFrom('notifications').select(['recipient', 'subject']).where('kind', '=', 'alert').where('subject', 'like', '%has failed for a day%').execute()
    t.equal((await toldEmails()).length, 0, 'not after one failure')
    await db.updateTable('notification_channels').set({ failing_since: new Date(Date.now() - 25 * 3600_000) }).where('id', '=', down.id).execute()
    const retry = async () => {
      await db.updateTable('channel_deliveries').set({ next_attempt_at: new Date() }).where('channel_id', '=', down.id).where('state', '=', 'pending').execute()
      await db.updateTable('notification_channels').set({ next_send_at: null }).where('id', '=', down.id).execute()
      await app.alerts.deliverDue()
    }
    await retry()
    t.same(await toldEmails(), [{ recipient: 'olga@acme.example', subject: '[mailrun] Alert channel "Down" has failed for a day' }])
    await retry()
    t.equal((await toldEmails()).length, 1, 'once per failing spell')
  })

  t.test('deleting a channel removes its deliveries; the change is in the audit trail', async (t) => {
    const channels = (await acme.api('GET', '/api/v1/notification-channels')).json().items as Array<{ id: string, name: string }>
    const slack = channels.find((c) => c.name === 'Slack') as { id: string }
    t.equal((await acme.api('DELETE', `/api/v1/notification-channels/${slack.id}`)).statusCode, 204)
    t.equal((await db.selectFrom('channel_deliveries').select('id').where('channel_id', '=', slack.id).execute()).length, 0)
    const audit = (await acme.api('GET', '/api/v1/audit')).json().items as Array<{ resource: string, action: string }>
    t.ok(audit.some((a) => a.resource === 'notification-channels' && a.action === 'delete'), JSON.stringify(audit.slice(0, 3)))
  })
})

t.test('a channel URL pointing where mailrun may not connect is refused, without connecting', async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: '127.0.0.0/8,169.254.0.0/16,10.0.0.0/8' } })
  const { api } = await newTenant(app, 'Acme')
  for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/']) {
    t.match((await api('POST', '/api/v1/notification-channels', { name: url, kind: 'webhook', events: ['job.faulted'], url })).json(), { statusCode: 400, message: /url may not point there/ }, url)
  }
})
