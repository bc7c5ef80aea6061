import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { addAllowedSender, eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Erasure (issue #28, item 15): a sender, and every trace of their address and of what they wrote
// or were answered, removed from the tenant's messages, launches and replies; the rows and counts
// stay, anonymous.

t.test(`erasing a sender on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const carlId = await addAllowedSender(setup, 'Carl Svensson', 'carl@sender.example')
  await setup.api('POST', '/api/v1/users', { email: 'admin@acme.example', name: 'Ada', role: 'admin', password: 'acme admin password' })
  await setup.api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga', role: 'admin', password: 'olga admin password' })
  await setup.api('PATCH', '/api/v1/users/' + String((await setup.api('GET', '/api/v1/users')).json().items.find((u: { email: string }) => u.email === 'olga@acme.example').id), { locale: 'ru' })

  const finish = async (launchId: string, jobId: number, output = 'anna-output-7731'): Promise<void> => {
    await sim.setJobState(jobId, 'Successful', { output: { out_Secret: output } })
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', launchId).execute()
    await eventually(async () => { await app.jobs.pollDue(); return (await db.selectFrom('launches').select('state').where('id', '=', launchId).executeTakeFirstOrThrow()).state === 'completed' })
  }
  const counts = async () => await db.selectFrom('activity_hourly').select(['kind', 'state', (eb) => eb.fn.sum<string>('n').as('n')])
    .where('tenant_id', '=', setup.tenantId).groupBy(['kind', 'state']).orderBy('kind').orderBy('state').execute()
  /** Every stored text about the tenant's mail, to search for a trace. */
  const everything = async (): Promise<string> => JSON.stringify(await Promise.all([
    db.selectFrom('messages').selectAll().where('tenant_id', '=', setup.tenantId).execute(),
    db.selectFrom('launches').selectAll().where('tenant_id', '=', setup.tenantId).execute(),
    db.selectFrom('launch_events').selectAll().where('launch_id', 'in', db.selectFrom('launches').select('id').where('tenant_id', '=', setup.tenantId)).execute(),
    db.selectFrom('notifications').selectAll().where('tenant_id', '=', setup.tenantId).execute(),
    db.selectFrom('senders').selectAll().where('tenant_id', '=', setup.tenantId).execute(),
    db.selectFrom('channel_deliveries').selectAll().where('tenant_id', '=', setup.tenantId).execute()
  ]), (_key, value: unknown) => value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value)

  // The team is told of finished jobs: those alerts name the sender too.
  t.equal((await setup.api('POST', '/api/v1/notification-channels', { name: 'Team', kind: 'webhook', events: ['job.completed'], url: 'https://hooks.acme.example/mailrun' })).statusCode, 201)
  // Anna: a finished launch with outputs, and a rejection. Bob: refused before he was a sender.
  const launched = (await setup.send('period = anna-period-4410\nExtractData: region = North\nBuildReport')).json()
  await finish(launched.launch.id, launched.launch.jobId)
  const rejected = (await setup.send('period = 2026-10', { subject: 'No Such Robot' })).json()
  t.equal(rejected.status, 'rejected')
  const bobBefore = (await setup.send('please run it', { from: 'Bob Example <bob@sender.example>' })).json()
  t.equal(bobBefore.status, 'rejected')
  const carl = (await setup.send('period = carl-period-2026\nExtractData: region = South\nBuildReport', { from: 'Carl Svensson <carl@sender.example>' })).json()
  await finish(carl.launch.id, carl.launch.jobId, 'carl-output')
  t.match(await everything(), /anna@sender\.example/)
  t.match(JSON.stringify(await db.selectFrom('channel_deliveries').select('data').execute()), /anna@sender\.example/, 'an alert names her')

  t.test('the API erases everything of the sender, and only of them', async (t) => {
    const before = await counts()
    const answer = await setup.api('POST', `/api/v1/senders/${setup.senderId}/erase`)
    t.equal(answer.statusCode, 200, answer.body)
    t.match(answer.json(), { senderId: setup.senderId, messages: 2, launches: 1 })
    t.ok(answer.json().replies >= 3, 'launched, finished and rejected replies')
    t.equal((await setup.api('GET', `/api/v1/senders/${setup.senderId}`)).statusCode, 404, 'the sender is gone')

    const left = await everything()
    for (const trace of ['anna@sender.example', 'Anna Petrova', 'anna-period-4410', 'anna-output-7731']) t.notOk(left.includes(trace), `no trace of ${trace}`)
    t.match(left, /carl-period-2026/, "another sender's messages are untouched")
    t.match(left, /bob@sender\.example/, "and so are a non-sender's")
    t.match((await setup.api('GET', `/api/v1/messages/${launched.message as string}`)).json(), { status: 'accepted', fromAddress: null, subject: null, contentRemovedBy: 'erasure' })
    t.match((await setup.api('GET', `/api/v1/launches/${launched.launch.id as string}`)).json(), { state: 'completed', inputArguments: null, outputArguments: null, jobId: launched.launch.jobId })
    t.same(await counts(), before, "the dashboard's counts are unchanged")
    t.equal((await setup.api('POST', `/api/v1/senders/${setup.senderId}/erase`)).statusCode, 404, 'erasing again: no such sender')
  })

  t.test('a person refused before they were a sender is erased too, replies included', async (t) => {
    const bob = (await setup.api('POST', '/api/v1/senders', { fullName: 'Bob Example', email: 'BOB@sender.example' })).json()
    const answer = (await setup.api('POST', `/api/v1/senders/${String(bob.id)}/erase`)).json()
    t.match(answer, { messages: 1, launches: 0 })
    t.ok(answer.replies >= 1, 'the rejection sent to him')
    t.notMatch(await everything(), /bob@sender\.example/i)
  })

  t.test('refused while a job of theirs is running: nothing is erased', async (t) => {
    const running = (await setup.send('period = carl-running\nExtractData: region = West\nBuildReport', { from: 'carl@sender.example' })).json()
    t.equal(running.launch.state, 'launched')
    const answer = await setup.api('POST', `/api/v1/senders/${carlId}/erase`)
    t.equal(answer.statusCode, 409)
    t.match(answer.json().message, /1 of this sender's messages is still being handled/)
    t.match(await everything(), /carl-period-2026/)
    await finish(running.launch.id, running.launch.jobId, 'carl-output')
  })

  t.test('the console asks for the address before erasing, in the user\'s language', async (t) => {
    const { get, post, signIn } = consoleClient(app)
    const { jar } = await signIn('admin@acme.example', 'acme admin password')
    const page = await get(jar, `/console/senders/${carlId}`)
    t.match(page.body, /Erase this sender/)
    t.match(page.body, /Type the address, carl@sender\.example, to confirm/)
    const wrong = await post(jar, `/console/senders/${carlId}/erase`, { _csrf: csrfOf(page.body), confirm: 'carl' })
    t.equal(wrong.statusCode, 400)
    t.match(wrong.body, /Nothing was erased: type the address, carl@sender\.example, exactly/)
    t.match(await everything(), /carl-period-2026/)

    const { jar: russian } = await signIn('olga@acme.example', 'olga admin password')
    const ruPage = await get(russian, `/console/senders/${carlId}`)
    t.match(ruPage.body, /Стереть отправителя/)
    t.match((await post(russian, `/console/senders/${carlId}/erase`, { _csrf: csrfOf(ruPage.body), confirm: 'nobody' })).body, /Ничего не стёрто/)

    const done = await post(jar, `/console/senders/${carlId}/erase`, { _csrf: csrfOf(page.body), confirm: ' Carl@Sender.example ' })
    t.equal(done.statusCode, 303)
    const list = await get(jar, String(done.headers.location))
    t.match(list.body, /Sender erased: the content and address of 2 messages and \d+ replies were removed\./)
    t.notMatch(await everything(), /carl/i)
  })
})
