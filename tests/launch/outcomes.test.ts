import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching, WEBHOOK_SECRET } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { createHmac } from 'node:crypto'

t.test(`launch deadlines, restarts, queues and job outcomes on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'], queues: ['Invoices'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_LAUNCH_DEADLINE_MS: '400', MAILRUN_LAUNCH_QUIET_MS: '1500' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const launchRow = async (id: string) => await db.selectFrom('launches').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  t.test('past the deadline the door answers retrying, and the launch still finishes, once', async (t) => {
    sim.delay(/StartJobs$/, 1500)
    const before = sim.jobs.length
    const started = Date.now()
    const answer = (await setup.send()).json()
    t.ok(Date.now() - started < 1400, 'the door did not wait for Orchestrator')
    t.match(answer.launch, { state: 'retrying', reason: /has not answered yet/ })
    const row = await eventually(async () => { const r = await launchRow(answer.launch.id); return r.state === 'launched' && r })
    t.equal(sim.jobs.length, before + 1)
    t.equal(row.job_id, sim.jobs[sim.jobs.length - 1]?.Id)
  })

  t.test('a launch abandoned mid-attempt by a dead process is reconciled by Reference, not started twice', async (t) => {
    const answer = (await setup.send()).json()
    const jobsBefore = sim.jobs.length
    // As a process killed after StartJobs but before recording the job leaves it (its claim and the
    // door's grace period both over).
    await db.updateTable('launches').set({ state: 'launching', job_id: null, job_key: null, locked_until: sql<Date>`now() - interval '1 second'`, next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
    t.equal(await app.launches.runDue(), 1)
    t.equal(sim.jobs.length, jobsBefore, 'no second job')
    t.match(await launchRow(answer.launch.id), { state: 'launched', job_id: answer.launch.jobId })

    // Killed before StartJobs was sent: the lookup finds nothing. The dead process's StartJobs
    // could still land, so nothing is started until the quiet period has passed; then, once.
    const second = (await setup.send()).json()
    const job = sim.jobs.find((j) => j.Id === second.launch.jobId)
    if (job !== undefined) job.Reference = 'someone-else'
    const count = sim.jobs.length
    await db.updateTable('launches').set({ state: 'launching', locked_until: sql<Date>`now() - interval '1 second'`, next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', second.launch.id).execute()
    await app.launches.runDue()
    t.equal(sim.jobs.length, count, 'nothing started during the quiet period')
    t.match(await launchRow(second.launch.id), { state: 'pending', unsure_since: Date })
    await db.updateTable('launches').set({ next_attempt_at: new Date() }).where('id', '=', second.launch.id).execute()
    await app.launches.runDue()
    t.equal(sim.jobs.length, count, 'still nothing when looked up again before it ends')
    await new Promise((resolve) => setTimeout(resolve, 1600))
    await db.updateTable('launches').set({ next_attempt_at: new Date() }).where('id', '=', second.launch.id).execute()
    await app.launches.runDue()
    t.equal(sim.jobs.length, count + 1, 'started once after the quiet period')
  })

  t.test('a claimed launch is not taken by another worker', async (t) => {
    const answer = (await setup.send()).json()
    await db.updateTable('launches').set({ state: 'launching', locked_until: sql<Date>`now() + interval '1 minute'` }).where('id', '=', answer.launch.id).execute()
    t.equal(await app.launches.runDue(), 0)
  })

  t.test('queue mode adds one queue item, and a duplicate reference counts as done', async (t) => {
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Invoices', launchMode: 'queue', queueName: 'Invoices', allowAllSenders: true })).statusCode, 201)
    const answer = (await setup.send('invoice = 42\nPost: amount = 10.5', { subject: 'Invoices' })).json()
    t.match(answer.launch, { state: 'launched', jobId: null })
    const item = sim.queueItems.find((q) => q.Reference === answer.launch.id)
    t.same(item?.SpecificContent, { invoice: '42', in_Functions: '[{"name":"Post","args":{"amount":"10.5"}}]' })
    const request = sim.requests.filter((r) => r.path.endsWith('AddQueueItem')).pop()
    t.match(JSON.parse(request?.body ?? '{}'), { itemData: { Name: 'Invoices', Priority: 'Normal', Reference: answer.launch.id } })

    sim.fail(/AddQueueItem$/, 409, { message: 'Error creating Transaction. Duplicate Reference.', errorCode: 1016, traceId: 't' })
    const again = (await setup.send('invoice = 43', { subject: 'Invoices' })).json()
    t.match(again.launch, { state: 'launched' })
    t.match((await setup.api('GET', `/api/v1/launches/${again.launch.id}`)).json().history, [{ state: 'pending' }, { state: 'launched', detail: /already in Invoices/ }])
  })

  t.test('a command too large for InputArguments fails with a clear reason and sends nothing', async (t) => {
    const before = sim.requests.filter((r) => r.path.endsWith('StartJobs')).length
    const body = `period = 2026-10\n${Array.from({ length: 60 }, (_v, i) => `ExtractData: region = "${'R'.repeat(150)}${i}"`).join('\n')}`
    const answer = (await setup.send(body)).json()
    t.match(answer.launch, { state: 'failed', reason: /too large for Orchestrator: its input arguments take \d+ characters and the limit is 10000/ })
    t.equal(sim.requests.filter((r) => r.path.endsWith('StartJobs')).length, before)
  })

  for (const [state, launchState] of [['Successful', 'completed'], ['Faulted', 'faulted'], ['Stopped', 'stopped']] as const) {
    t.test(`without a webhook, polling finds a ${state} job and records it`, async (t) => {
      const answer = (await setup.send()).json()
      await sim.setJobState(answer.launch.jobId, 'Running')
      await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
      t.equal(await app.jobs.pollDue(), 0, 'still running')
      t.equal((await launchRow(answer.launch.id)).state, 'launched')
      await sim.setJobState(answer.launch.jobId, state, { output: { out_Total: 42 }, info: state === 'Faulted' ? 'Element not found: Submit button' : undefined })
      await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
      t.equal(await app.jobs.pollDue(), 1)
      const row = await launchRow(answer.launch.id)
      t.match(row, { state: launchState, output_arguments: { out_Total: 42 }, finished_at: Date })
      if (state === 'Faulted') t.equal(row.job_info, 'Element not found: Submit button')
      t.ok(sim.requests.some((r) => r.path.endsWith(`/odata/Jobs(${String(answer.launch.jobId)})`)), 'single-job reads, not the filtered list')
    })
  }
})

t.test(`the Orchestrator webhook records job outcomes, signed as UiPath signs them, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const holder: { url: string } = { url: '' }
  const sim = await startOrchestratorSimulator({ webhook: { get url () { return holder.url }, secret: WEBHOOK_SECRET } })
  t.teardown(sim.close)
  const setup = await setUpLaunching(app, sim)
  holder.url = `http://127.0.0.1:${port}/webhooks/orchestrator/${setup.connectionId}`

  t.test('job.completed carries the output arguments as an object', async (t) => {
    const answer = (await setup.send()).json()
    await sim.setJobState(answer.launch.jobId, 'Successful', { output: { out_ReportUrl: 'https://files.acme.example/r.xlsx', out_Rows: 1200 } })
    t.equal(sim.webhookDeliveries.at(-1)?.status, 200)
    const row = await database.db.selectFrom('launches').selectAll().where('id', '=', answer.launch.id).executeTakeFirstOrThrow()
    t.match(row, { state: 'completed', output_arguments: { out_ReportUrl: 'https://files.acme.example/r.xlsx', out_Rows: 1200 }, job_info: 'Job completed' })
  })

  t.test('job.faulted keeps the failure text', async (t) => {
    const answer = (await setup.send()).json()
    await sim.setJobState(answer.launch.jobId, 'Faulted', { info: 'System exception: login failed' })
    t.match(await database.db.selectFrom('launches').selectAll().where('id', '=', answer.launch.id).executeTakeFirstOrThrow(), { state: 'faulted', job_info: 'System exception: login failed' })
  })

  t.test('a wrong signature is refused and changes nothing', async (t) => {
    const answer = (await setup.send()).json()
    const body = JSON.stringify({ Type: 'job.completed', Job: { Id: answer.launch.jobId, Key: answer.launch.jobKey, State: 'Successful', OutputArguments: {} } })
    for (const signature of [createHmac('sha256', 'not-the-secret').update(body).digest('base64'), undefined]) {
      const res = await app.inject({ method: 'POST', url: `/webhooks/orchestrator/${setup.connectionId}`, headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-uipath-signature': signature } : {}) }, payload: body })
      t.equal(res.statusCode, 401)
    }
    t.equal((await database.db.selectFrom('launches').select('state').where('id', '=', answer.launch.id).executeTakeFirstOrThrow()).state, 'launched')
    const good = await app.inject({ method: 'POST', url: `/webhooks/orchestrator/${setup.connectionId}`, headers: { 'content-type': 'application/json', 'x-uipath-signature': createHmac('sha256', WEBHOOK_SECRET).update(body).digest('base64') }, payload: body })
    t.same(good.json(), { handled: true, launch: answer.launch.id })
    const again = await app.inject({ method: 'POST', url: `/webhooks/orchestrator/${setup.connectionId}`, headers: { 'content-type': 'application/json', 'x-uipath-signature': createHmac('sha256', WEBHOOK_SECRET).update(body).digest('base64') }, payload: body })
    t.same(again.json(), { handled: false, launch: answer.launch.id }, 'a repeated event changes nothing')
  })
})

t.test('concurrent launches share one authentication', async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  const answers = await Promise.all(Array.from({ length: 8 }, async () => (await setup.send()).json()))
  t.same(answers.map((a) => a.launch.state), Array(8).fill('launched'))
  t.equal(sim.tokensIssued(), 1)
  sim.expireTokens()
  t.equal((await setup.send()).json().launch.state, 'launched')
  t.equal(sim.tokensIssued(), 2, 'one new token after it expired')
})

t.test('an older server without job references is detected once; launches carry in_MailrunLaunchId instead', async (t) => {
  const sim = await startOrchestratorSimulator({ withoutJobReference: true })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim, { kind: 'onprem', url: sim.url, authMode: 'token', accessToken: 'sim-pat', organization: null, tenantName: null, clientId: null })
  const first = (await setup.send()).json()
  t.match(first.launch, { state: 'launched' })
  const job = sim.jobs.find((j) => j.Id === first.launch.jobId)
  t.equal(JSON.parse(job?.InputArguments ?? '{}').in_MailrunLaunchId, first.launch.id)
  t.equal((await database.db.selectFrom('orchestrator_connections').select('supports_job_reference').executeTakeFirstOrThrow()).supports_job_reference, false)

  const posts = sim.requests.filter((r) => r.path.endsWith('StartJobs')).length
  sim.failAfterCreate(502)
  const unclear = (await setup.send()).json()
  t.equal(sim.requests.filter((r) => r.path.endsWith('StartJobs')).length, posts + 1, 'the second launch did not try Reference again')
  await database.db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', unclear.launch.id).execute()
  const jobs = sim.jobs.length
  await app.launches.runDue()
  t.equal(sim.jobs.length, jobs, 'the job was found by its launch id argument, not started twice')
  t.match(await database.db.selectFrom('launches').selectAll().where('id', '=', unclear.launch.id).executeTakeFirstOrThrow(), { state: 'launched' })
})
