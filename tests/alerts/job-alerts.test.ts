import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { startChatStandIns, type ChatRequest } from '../support/chat-stand-ins.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// A team learns of a faulted job or a launch that gave up without looking at mailrun: each channel
// kind gets the event in its provider's format, from a real cause at the Orchestrator stand-in.

/**
 * Waits until every alert due within a few seconds has been tried: the one a state change kicks
 * at once, one spaced a second behind another of its channel, one being sent (claimed minutes
 * ahead) — not those a receiver asked to wait (Retry-After).
 */
export async function settleAlerts (app: FastifyInstance): Promise<void> {
  await eventually(async () => {
    await app.alerts.deliverDue()
    const waiting = await app.db.selectFrom('channel_deliveries').select('id').where('state', '=', 'pending').where('attempts', '=', 0)
      .where((eb) => eb.or([eb('next_attempt_at', '<=', sql<Date>`now() + interval '5 seconds'`), eb('next_attempt_at', '>', sql<Date>`now() + interval '60 seconds'`)])).execute()
    return waiting.length === 0
  })
}

t.test(`job and launch alerts reach every kind of channel on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_CHATWORK_API_URL: chat.urls.chatworkApi, MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const { api } = setup

  const create = async (body: Record<string, unknown>) => {
    const answer = await api('POST', '/api/v1/notification-channels', body)
    t.equal(answer.statusCode, 201, answer.body)
    return answer.json()
  }
  const faults = ['job.faulted', 'job.stopped', 'launch.failed']
  const hook = await create({ name: 'Tickets', kind: 'webhook', events: faults, url: chat.urls.webhook('tickets') })
  await create({ name: 'Slack', kind: 'slack', events: faults, url: chat.urls.slack })
  await create({ name: 'Teams', kind: 'teams', events: faults, url: chat.urls.teams })
  await create({ name: 'Chat', kind: 'google_chat', events: faults, url: chat.urls.googleChat })
  await create({ name: 'Chatwork', kind: 'chatwork', events: faults, roomId: '123456', token: chat.chatworkToken })
  const everything = await create({ name: 'Everything', kind: 'webhook', events: ['job.completed', ...faults], url: chat.urls.webhook('everything') })

  const settle = async () => await settleAlerts(app)
  /** Polls the job to its end and delivers what is due, as the background loops do. */
  const finishJob = async (jobId: number, state: 'Faulted' | 'Successful' | 'Stopped', info: string | null = null) => {
    await sim.setJobState(jobId, state, info !== null ? { info } : {})
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('job_id', '=', jobId).execute()
    t.equal(await app.jobs.pollDue(), 1, 'the job tracker recorded the outcome')
    await settle()
  }
  const of = (service: ChatRequest['service'], from: number) => chat.requests.slice(from).filter((r) => r.service === service)

  t.test('a faulted job is told to each channel in its own format, once', async (t) => {
    const launch = (await setup.send()).json().launch
    const before = chat.requests.length
    await finishJob(launch.jobId, 'Faulted', 'Element "Save" not found')

    const [signed] = of('webhook', before).filter((r) => r.path.endsWith('/tickets'))
    t.ok(signed, 'the webhook receiver got it')
    const verified = new Webhook(hook.signingSecret).verify(signed!.body, signed!.headers as Record<string, string>) as { type: string, timestamp: string, data: Record<string, unknown> }
    t.match(verified, { type: 'job.faulted', data: { launchId: launch.id, robot: 'Monthly Report', sender: 'anna@sender.example', jobId: launch.jobId, state: 'faulted', info: 'Element "Save" not found', url: `https://mailrun.acme.example/console/launches/${launch.id}` } })
    t.match(signed!.headers['webhook-id'], /^msg_[0-9a-f-]{36}$/)

    const slack = JSON.parse(of('slack', before)[0]!.body) as { text: string }
    t.match(slack.text, /^\*Monthly Report: job faulted\*\n/)
    t.match(slack.text, `Job ${String(launch.jobId)} for anna@sender.example faulted: Element "Save" not found`)
    t.match(slack.text, `<https://mailrun.acme.example/console/launches/${launch.id}|Open in mailrun>`)

    const card = JSON.parse(of('teams', before)[0]!.body) as { attachments: Array<{ content: { body: Array<{ text: string }>, actions: Array<{ url: string }> } }> }
    t.equal(card.attachments[0]!.content.body[0]!.text, 'Monthly Report: job faulted')
    t.equal(card.attachments[0]!.content.actions[0]!.url, `https://mailrun.acme.example/console/launches/${launch.id}`)

    t.match((JSON.parse(of('google_chat', before)[0]!.body) as { text: string }).text, /Monthly Report: job faulted/)

    const chatwork = of('chatwork', before)[0]!
    t.equal(chatwork.path, '/v2/rooms/123456/messages')
    t.match(new URLSearchParams(chatwork.body).get('body'), /^\[info\]\[title\]Monthly Report: job faulted\[\/title\]/)

    const rows = await db.selectFrom('channel_deliveries').select(['state', 'event_type']).where(sql<boolean>`data->>'launchId' = ${launch.id}`).execute()
    t.equal(rows.length, 6, 'one delivery per channel that chose the event')
    t.ok(rows.every((r) => r.state === 'sent' && r.event_type === 'job.faulted'))
    t.equal(await app.jobs.pollDue(), 0)
    await settle()
    t.equal(chat.requests.length - before, 6, 'told once, not again on the next pass')
  })

  t.test('a completed job is told only where job.completed was chosen', async (t) => {
    const launch = (await setup.send()).json().launch
    const before = chat.requests.length
    await finishJob(launch.jobId, 'Successful')
    const sent = chat.requests.slice(before)
    t.equal(sent.length, 1)
    t.equal(sent[0]!.path, '/hooks/everything')
    t.match(new Webhook(everything.signingSecret).verify(sent[0]!.body, sent[0]!.headers as Record<string, string>), { type: 'job.completed', data: { launchId: launch.id, state: 'completed' } })
  })

  t.test('a launch that gives up is told with its reason', async (t) => {
    t.equal((await api('POST', '/api/v1/robots', { name: 'Ghost', processName: 'GhostProcess', allowAllSenders: true })).statusCode, 201)
    const before = chat.requests.length
    const launch = (await setup.send('Run', { subject: 'Ghost' })).json().launch
    t.equal(launch.state, 'failed')
    await settle()
    const slack = JSON.parse(of('slack', before)[0]!.body) as { text: string }
    t.match(slack.text, 'mailrun gave up launching Ghost for anna@sender.example: process "GhostProcess" was not found in folder "Finance"')
    t.equal(of('webhook', before).length, 2)
  })

  t.test('a failed attempt is retried with the same webhook-id and a fresh valid signature', async (t) => {
    chat.answerWith('tickets', [503])
    const launch = (await setup.send()).json().launch
    const before = chat.requests.length
    await finishJob(launch.jobId, 'Stopped')
    const delivery = await db.selectFrom('channel_deliveries as d').innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
      .select(['d.id', 'd.state', 'd.attempts', 'd.last_status', 'd.next_attempt_at']).where('c.name', '=', 'Tickets').where(sql<boolean>`d.data->>'launchId' = ${launch.id}`).executeTakeFirstOrThrow()
    t.match(delivery, { state: 'pending', attempts: 1, last_status: 503 })
    t.ok(delivery.next_attempt_at.getTime() > Date.now() + 3000, 'the next attempt waits (5 s)')
    t.match((await api('GET', `/api/v1/notification-channels/${String(hook.id)}`)).json(), { failingSince: String, lastError: '503 stand-in receiver answered 503' })

    await db.updateTable('channel_deliveries').set({ next_attempt_at: new Date() }).where('id', '=', delivery.id).execute()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await settle()
    const attempts = of('webhook', before).filter((r) => r.path.endsWith('/tickets'))
    t.equal(attempts.length, 2)
    t.equal(attempts[0]!.headers['webhook-id'], attempts[1]!.headers['webhook-id'], 'the same webhook-id on the retry')
    t.not(attempts[0]!.headers['webhook-timestamp'], attempts[1]!.headers['webhook-timestamp'], 'signed anew at the retry')
    for (const a of attempts) t.ok(new Webhook(hook.signingSecret).verify(a.body, a.headers as Record<string, string>))
    t.match((await api('GET', `/api/v1/notification-channels/${String(hook.id)}`)).json(), { failingSince: null, lastError: null }, 'a success ends "failing"')
    const listed = (await api('GET', `/api/v1/notification-channels/${String(hook.id)}/deliveries`)).json().items[0]
    t.match(listed, { webhookId: attempts[0]!.headers['webhook-id'], event: 'job.stopped', state: 'sent', attempts: 2, lastStatus: 204 })
  })

  t.test("a 429's Retry-After holds the whole channel, and its deliveries go one a second", async (t) => {
    chat.throttle('slack', 1, 30)
    const before = chat.requests.length
    const launches = [(await setup.send()).json().launch, (await setup.send()).json().launch]
    await sim.setJobState(launches[0].jobId, 'Faulted', { info: 'one' })
    await sim.setJobState(launches[1].jobId, 'Faulted', { info: 'two' })
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', 'in', launches.map((l) => l.id)).execute()
    t.equal(await app.jobs.pollDue(), 2)
    await settle()
    t.equal(of('slack', before).length, 1, 'the throttled channel was asked once')
    const waiting = await db.selectFrom('channel_deliveries as d').innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
      .select(['d.next_attempt_at', 'd.last_status']).where('c.name', '=', 'Slack').where('d.state', '=', 'pending').execute()
    t.equal(waiting.length, 2)
    for (const w of waiting) t.ok(w.next_attempt_at.getTime() > Date.now() + 25_000, 'both wait out Retry-After: 30')
    const teams = of('teams', before)
    t.equal(teams.length, 2, 'other channels are not held')
    t.ok(teams[1]!.at - teams[0]!.at >= 900, `one request a second to a channel (${teams[1]!.at - teams[0]!.at} ms apart)`)
    t.equal(of('slack', before).length, 1, 'the throttled channel still waits')

    // Another pass (or replica) may hold one of the channel's deliveries while the 429 is recorded,
    // and bring it back due: the channel itself waits, not only the deliveries it had then.
    await db.updateTable('channel_deliveries').set({ next_attempt_at: sql<Date>`now()` })
      .where('channel_id', '=', db.selectFrom('notification_channels').select('id').where('name', '=', 'Slack')).where('state', '=', 'pending').execute()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await app.alerts.deliverDue()
    t.equal(of('slack', before).length, 1, 'no request before Retry-After has passed')
    const held = await db.selectFrom('channel_deliveries as d').innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
      .select('d.next_attempt_at').where('c.name', '=', 'Slack').where('d.state', '=', 'pending').execute()
    t.equal(held.length, 2)
    for (const h of held) t.ok(h.next_attempt_at.getTime() > Date.now() + 25_000, 'back behind the channel\'s pause')

    // Chatwork says when its window ends in X-RateLimit-Reset (an epoch second), not Retry-After.
    chat.throttle('chatwork', 1, 120)
    const third = (await setup.send()).json().launch
    await sim.setJobState(third.jobId, 'Faulted', { info: 'three' })
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', third.id).execute()
    await app.jobs.pollDue()
    await settle()
    const chatwork = await db.selectFrom('channel_deliveries as d').innerJoin('notification_channels as c', 'c.id', 'd.channel_id')
      .select(['d.next_attempt_at', 'd.last_status']).where('c.name', '=', 'Chatwork').where('d.state', '=', 'pending').where('d.last_status', '=', 429).execute()
    t.equal(chatwork.length, 1)
    t.ok(chatwork[0]!.next_attempt_at.getTime() > Date.now() + 100_000, 'waits until the window resets (120 s)')
  })
})

t.test(`alerts are written in the tenant's language on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })).statusCode, 200)
  t.equal((await setup.api('POST', '/api/v1/notification-channels', { name: 'Slack', kind: 'slack', events: ['job.faulted', 'launch.failed'], url: chat.urls.slack })).statusCode, 201)
  const launch = (await setup.send()).json().launch
  await sim.setJobState(launch.jobId, 'Faulted', { info: 'Element not found' })
  await database.db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', launch.id).execute()
  await app.jobs.pollDue()
  await settleAlerts(app)
  t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Призрак', processName: 'GhostProcess', allowAllSenders: true })).statusCode, 201)
  t.equal((await setup.send('Run', { subject: 'Призрак' })).json().launch.state, 'failed')
  await eventually(async () => { await settleAlerts(app); return chat.requests.length === 2 })
  const [faulted, failed] = chat.requests.map((r) => (JSON.parse(r.body) as { text: string }).text)
  t.equal(faulted, `*Monthly Report: задание завершилось с ошибкой*\nЗадание ${String(launch.jobId)} для anna@sender.example завершилось с ошибкой: Element not found\n<http://localhost:3000/console/launches/${String(launch.id)}|Открыть в mailrun>`)
  t.match(failed, /^\*Призрак: робот не запущен\*\nmailrun не смог запустить робота Призрак для anna@sender\.example: /)
  t.notMatch(failed, /was not found|gave up/, 'the reason in Russian too')
})
