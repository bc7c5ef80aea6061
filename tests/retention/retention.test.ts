import { sql } from 'kysely'
import t from 'tap'
import { startBackgroundWork } from '../../src/background.js'
import { sweepRetention } from '../../src/retention/retention-sweep.js'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Content is kept only as long as it should be (issue #28, item 14): past the retention period a
// finished message loses its subject, body, inputs, outputs, reply texts and attachment names; the
// rows, states and counts stay.

t.test(`retention on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_RETENTION_SWEEP_S: '1' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const admin = client(app, ADMIN_KEY)

  /** A launched, finished message whose replies went out, received `days` ago. */
  const finished = async (days: number, body = 'period = 2026-10\nExtractData: region = North\nBuildReport', messageId?: string): Promise<{ messageId: string, launchId: string }> => {
    const answer = (await setup.send(body, messageId !== undefined ? { messageId } : {})).json()
    await sim.setJobState(answer.launch.jobId, 'Successful', { output: { out_ReportUrl: 'https://files.acme.example/secret-report.xlsx' } })
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
    await eventually(async () => { await app.jobs.pollDue(); return (await db.selectFrom('launches').select('state').where('id', '=', answer.launch.id).executeTakeFirstOrThrow()).state === 'completed' })
    // Replies are not the subject here: as if the SMTP server had taken them.
    await db.updateTable('notifications').set({ state: 'sent', sent_at: new Date() }).where('message_id', '=', answer.message).execute()
    await sql`update messages set received_at = now() - make_interval(days => ${days}::int) where id = ${answer.message}`.execute(db)
    return { messageId: answer.message, launchId: answer.launch.id }
  }
  const counts = async () => await db.selectFrom('activity_hourly').select(['kind', 'state', (eb) => eb.fn.sum<string>('n').as('n')])
    .where('tenant_id', '=', setup.tenantId).groupBy(['kind', 'state']).orderBy('kind').orderBy('state').execute()

  t.test('past the period, content goes and the rows, states and counts stay', async (t) => {
    const old = await finished(91)
    const recent = await finished(89)
    const before = await counts()
    const removed = await sweepRetention(db, { defaultDays: 90 })
    t.match(removed, { messages: 1, launches: 1 })
    t.ok(removed.replies >= 2, 'the launched and finished replies')

    const message = (await setup.api('GET', `/api/v1/messages/${old.messageId}`)).json()
    t.match(message, { status: 'accepted', subject: null, body: null, problems: [], contentRemovedBy: 'retention', contentRemovedAt: String, fromAddress: 'anna@sender.example', launchId: old.launchId })
    for (const reply of message.replies) t.match(reply, { subject: '', text: '', state: 'sent' })
    const launch = (await setup.api('GET', `/api/v1/launches/${old.launchId}`)).json()
    t.match(launch, { state: 'completed', inputArguments: null, outputArguments: null, jobInfo: null, plan: { removed: 'retention' } })
    t.ok(launch.history.length > 0 && launch.history.every((event: { detail: string | null }) => event.detail === null), 'the history keeps states and times only')
    for (const reply of launch.replies) t.match(reply, { subject: '', text: '' })
    const everything = JSON.stringify([message, launch, await db.selectFrom('notifications').selectAll().where('launch_id', '=', old.launchId).execute()])
    t.notMatch(everything, /region|North|secret-report|"period"/, 'nothing of what was written or answered is left (the robot keeps its name)')

    t.match((await setup.api('GET', `/api/v1/messages/${recent.messageId}`)).json(), { subject: 'Monthly Report', contentRemovedAt: null }, 'a message inside the period is untouched')
    t.same(await counts(), before, "the dashboard's counts are unchanged")
    t.match(await sweepRetention(db, { defaultDays: 90 }), { messages: 0 }, 'a second sweep finds nothing more')

    // The same email delivered again after its content went: still the same message, no second job.
    const kept = await finished(120, 'period = 2026-09\nBuildReport', '<late-retry@sender.example>')
    await sweepRetention(db, { defaultDays: 90 })
    const jobs = sim.jobs.length
    const again = (await setup.send('period = 2026-09\nBuildReport', { messageId: '<late-retry@sender.example>' })).json()
    t.match(again, { status: 'duplicate', message: kept.messageId })
    t.equal(sim.jobs.length, jobs, 'no second job')
  })

  t.test("a tenant's own period overrides the instance's", async (t) => {
    const patched = await admin('PATCH', `/api/v1/tenants/${setup.tenantId}`, { retentionDays: 7 })
    t.equal(patched.json().retentionDays, 7)
    const eightDays = await finished(8)
    const sixDays = await finished(6)
    await sweepRetention(db, { defaultDays: 90 })
    t.match(await db.selectFrom('messages').select(['subject', 'content_removed_by']).where('id', '=', eightDays.messageId).executeTakeFirstOrThrow(), { subject: null, content_removed_by: 'retention' })
    t.match(await db.selectFrom('messages').select(['subject']).where('id', '=', sixDays.messageId).executeTakeFirstOrThrow(), { subject: 'Monthly Report' })
    t.equal((await admin('PATCH', `/api/v1/tenants/${setup.tenantId}`, { retentionDays: null })).json().retentionDays, null, 'null: the instance default again')
    const zero = await admin('PATCH', `/api/v1/tenants/${setup.tenantId}`, { retentionDays: 0 })
    t.equal(zero.statusCode, 400, 'no period is not "keep forever" nor the default: it is refused')
    t.match(zero.json().details, [{ field: 'retentionDays' }])
  })

  t.test('unfinished work waits: a running job, an undecided message, a reply still to send', async (t) => {
    const running = (await setup.send()).json()
    await sql`update messages set received_at = now() - interval '200 days' where id = ${running.message}`.execute(db)
    const unsent = await finished(200)
    await db.updateTable('notifications').set({ state: 'pending' }).where('message_id', '=', unsent.messageId).execute()
    await sweepRetention(db, { defaultDays: 90 })
    for (const id of [running.message, unsent.messageId]) {
      t.match(await db.selectFrom('messages').select(['subject', 'content_removed_at']).where('id', '=', id).executeTakeFirstOrThrow(), { subject: 'Monthly Report', content_removed_at: null })
    }
    await db.updateTable('notifications').set({ state: 'sent' }).where('message_id', '=', unsent.messageId).execute()
    await db.updateTable('messages').set({ status: 'received' }).where('id', '=', unsent.messageId).execute()
    await sweepRetention(db, { defaultDays: 90 })
    t.equal((await db.selectFrom('messages').select('subject').where('id', '=', unsent.messageId).executeTakeFirstOrThrow()).subject, 'Monthly Report', 'undecided: kept')
    await db.updateTable('messages').set({ status: 'accepted' }).where('id', '=', unsent.messageId).execute()
  })

  t.test("alerts sent to the team go with the tenant's retention period; unsent ones wait", async (t) => {
    const channel = (await setup.api('POST', '/api/v1/notification-channels', { name: 'Team', kind: 'webhook', events: ['job.faulted'], url: 'https://hooks.acme.example/mailrun' })).json()
    const old = sql<Date>`now() - interval '91 days'`
    for (const state of ['sent', 'failed', 'pending'] as const) {
      await db.insertInto('channel_deliveries').values({ channel_id: channel.id, tenant_id: setup.tenantId, event_type: 'job.faulted', data: JSON.stringify({ sender: `${state}@sender.example` }), state }).execute()
    }
    await sql`update channel_deliveries set created_at = ${old}`.execute(db)
    await db.insertInto('channel_deliveries').values({ channel_id: channel.id, tenant_id: setup.tenantId, event_type: 'job.faulted', data: JSON.stringify({ sender: 'recent@sender.example' }), state: 'sent' }).execute()
    await sweepRetention(db, { defaultDays: 90 })
    const left = (await db.selectFrom('channel_deliveries').select('data').where('channel_id', '=', channel.id).execute()).map((d) => String(d.data.sender)).sort()
    t.same(left, ['pending@sender.example', 'recent@sender.example'])
  })

  t.test('the sweep works in bounded batches and the background loop runs it', async (t) => {
    // 1,100 finished messages from a year ago, made directly: only their number matters here.
    const template = await db.selectFrom('messages').selectAll().where('tenant_id', '=', setup.tenantId).limit(1).executeTakeFirstOrThrow()
    await sql`insert into messages (tenant_id, mailbox_id, door, dedupe_key, raw_sha256, size_bytes, status, subject, body, received_at)
      select ${setup.tenantId}::uuid, ${template.mailbox_id}::uuid, 'mime', 'bulk-' || n, 'x', 10, 'rejected', 'Payroll for ' || n, 'secret body ' || n, now() - interval '365 days'
      from generate_series(1, 1100) as n`.execute(db)
    const first = await sweepRetention(db, { defaultDays: 90, batch: 500, maxBatches: 2 })
    t.equal(first.messages, 1000, 'two batches of 500, then it stops until the next sweep')
    const left = async () => Number((await db.selectFrom('messages').select((eb) => eb.fn.countAll<string>().as('n')).where('dedupe_key', 'like', 'bulk-%').where('content_removed_at', 'is', null).executeTakeFirstOrThrow()).n)
    t.equal(await left(), 100)
    // MAILRUN_RETENTION_SWEEP_S=1 and the instance's default period: the loop takes the rest.
    const stop = startBackgroundWork(app)
    t.teardown(stop)
    await eventually(async () => await left() === 0, 15_000)
    t.pass('the background sweep removed the rest')
  })
})
