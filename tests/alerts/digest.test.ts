import { sql } from 'kysely'
import t from 'tap'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { startChatStandIns } from '../support/chat-stand-ins.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher } from '../support/smtp.js'

// The digest: what a period held — messages by outcome, launches by robot and outcome, the slowest
// and failing robots, refused senders, mailboxes — as a readable email (HTML and text) in the
// tenant's language, or a chat message; sent once per period at 08:00 in the tenant's time zone.

t.test(`digests on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const smtp = await startSmtpCatcher()
  t.teardown(smtp.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const admin = client(app, ADMIN_KEY)
  t.match((await admin('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru', timeZone: 'Europe/Moscow' })).json(), { timeZone: 'Europe/Moscow' })
  t.match((await admin('PATCH', `/api/v1/tenants/${setup.tenantId}`, { timeZone: 'Moscow' })).json(), { statusCode: 400, message: /"Moscow" is not a time zone/ })

  // A day's work: three launches (one completed after 90 s, one faulted), one refused stranger.
  const launched = []
  for (let i = 0; i < 3; i++) launched.push((await setup.send()).json().launch)
  await setup.send('Run', { from: 'mallory@stranger.example' })
  await sim.setJobState(launched[0].jobId, 'Successful')
  await sim.setJobState(launched[1].jobId, 'Faulted', { info: 'Element not found' })
  await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).execute()
  await app.jobs.pollDue()
  await db.updateTable('launches').set({ finished_at: sql<Date>`launched_at + interval '90 seconds'` }).where('id', '=', launched[0].id).execute()

  const mail = (await setup.api('POST', '/api/v1/notification-channels', { name: 'Почта', kind: 'email', events: [], digest: 'daily', recipients: ['rpa@acme.example'] })).json()
  t.match(mail, { digest: 'daily', events: [] })
  t.match((await setup.api('POST', '/api/v1/notification-channels', { name: 'Nothing', kind: 'email', events: [] })).json(), { statusCode: 400, message: /events choose at least one event, or a digest/ })
  await setup.api('POST', '/api/v1/notification-channels', { name: 'Slack', kind: 'slack', events: ['job.faulted'], digest: 'weekly', url: chat.urls.slack })
  await app.alerts.deliverDue()
  const chatBefore = chat.requests.length

  t.equal(await app.digests.send(), 0, 'a new digest starts with the next period, not at once')

  // Tomorrow at 08:30 in Moscow: today's digest is due.
  const moscowToday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(new Date())
  const tomorrow0830 = new Date(new Date(`${moscowToday}T08:30:00+03:00`).getTime() + 24 * 3600_000)
  await Promise.all([app.digests.send(tomorrow0830), app.digests.send(tomorrow0830)])
  const digestsOf = async (channelId: string) => await db.selectFrom('channel_deliveries').select('id').where('channel_id', '=', channelId).where('event_type', '=', 'digest').execute()
  t.equal((await digestsOf(mail.id)).length, 1, 'one digest, though two passes ran at once')
  t.equal(await app.digests.send(tomorrow0830), 0, 'and not again in the same period')
  await app.alerts.deliverDue()
  const digestMail = () => smtp.received.find((m) => m.to.includes('rpa@acme.example'))
  await eventually(async () => { await app.mailer.sendDue(); return digestMail() })
  const email = digestMail()!.mail
  const day = new Date(`${moscowToday}T12:00:00+03:00`).toLocaleDateString('ru-RU', { timeZone: 'Europe/Moscow', day: 'numeric', month: 'long', year: 'numeric' })
  t.equal(email.subject, `[mailrun] Сводка mailrun за день: ${day}`)
  const text = email.text ?? ''
  t.match(text, 'Писем: 4 (')
  t.match(text, 'принято: 3')
  t.match(text, /Запусков: 3\n• Monthly Report: (?=.*выполнено 1)(?=.*с ошибкой 1)(?=.*выполняется 1)/)
  t.match(text, 'Самый медленный: Monthly Report, в среднем')
  t.match(text, 'Чаще всего с ошибкой: Monthly Report, 1 раз(а)')
  t.match(text, 'Отклонённые письма по отправителям: mallory@stranger.example (1)')
  t.match(text, 'Ящики: 1, без ошибок')
  t.match(email.html, '<li>Monthly Report: ')
  t.match(email.html, /<h2[^>]*>Сводка mailrun за день/)

  // The Monday after, 08:30 in Moscow: the weekly digest for the week before.
  const monday = new Date(tomorrow0830)
  while (new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Moscow', weekday: 'short' }).format(monday) !== 'Mon') monday.setTime(monday.getTime() + 24 * 3600_000)
  monday.setTime(monday.getTime() + 7 * 24 * 3600_000)
  await app.digests.send(monday)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await app.alerts.deliverDue()
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await app.alerts.deliverDue()
  const weekly = chat.requests.slice(chatBefore).map((r) => (JSON.parse(r.body) as { text: string }).text)
  t.ok(weekly.length >= 1 && weekly.length <= 2, `a weekly digest per week that ended (${weekly.length})`)
  t.match(weekly.at(-1), /^\*Сводка mailrun за неделю: \d+ \S+ \d{4} г\. – \d+ \S+ \d{4} г\.\*\n/)
})

t.test(`a digest in English, to a chat channel, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  await setup.send()
  await setup.send('Run', { from: 'mallory@stranger.example' })
  await setup.api('POST', '/api/v1/notification-channels', { name: 'Team chat', kind: 'google_chat', events: [], digest: 'daily', url: chat.urls.googleChat })
  const today = new Date().toISOString().slice(0, 10)
  t.equal(await app.digests.send(new Date(Date.parse(`${today}T08:30:00Z`) + 24 * 3600_000)), 1)
  await app.alerts.deliverDue()
  const text = (JSON.parse(chat.requests[0]!.body) as { text: string }).text
  const day = new Date(`${today}T12:00:00Z`).toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' })
  t.match(text, `*mailrun daily digest: ${day}*\nMessages: 2 (`)
  t.match(text, 'Launches: 1\n• Monthly Report: running 1')
  t.match(text, 'Refused messages by sender: mallory@stranger.example (1)')
  t.match(text, 'Mailboxes: 1, no errors')
})
