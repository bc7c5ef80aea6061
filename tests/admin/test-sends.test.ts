import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// POST /api/v1/test-sends: the console's "Test send", for scripts too.

t.test(`test sends on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const send = async (body: Record<string, unknown>) => await setup.api('POST', '/api/v1/test-sends', { robotId: setup.robotId, senderId: setup.senderId, ...body })
  const messagesStored = async () => (await db.selectFrom('messages').select('id').execute()).length

  t.test('a dry run checks the command and shows the exact StartJobs request, launching nothing', async (t) => {
    const res = await send({ text: 'period = 2026-10\nExtractData: region = North\nBuildReport' })
    t.equal(res.statusCode, 200, res.body)
    const finance = sim.folders.find((f) => f.FullyQualifiedName === 'Finance')
    const release = sim.releases.find((r) => r.Name === 'MonthlyReport' && r.OrganizationUnitId === finance?.Id)
    t.match(res.json(), {
      outcome: 'valid',
      problems: [],
      request: {
        method: 'POST',
        path: '/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs',
        folder: 'Finance',
        body: { startInfo: { ReleaseKey: release?.Key, Strategy: 'ModernJobsCount', JobsCount: 1, Reference: '(the launch id)' } }
      },
      messageId: null,
      launch: null
    })
    t.same(JSON.parse(res.json().request.body.startInfo.InputArguments), { period: '2026-10', in_Functions: '[{"name":"ExtractData","args":{"region":"North"}},{"name":"BuildReport","args":{}}]' })
    t.equal(sim.jobs.length, 0, 'no job started')
    t.equal(await messagesStored(), 0, 'nothing stored')
  })

  t.test('what an email would be refused for, a test is refused for, in the same words', async (t) => {
    t.match((await send({ text: 'period = 2026-10\nBuildReprt' })).json(), { outcome: 'rejected', problems: [{ line: 2, message: /BuildReprt/ }] })
    t.match((await send({ text: 'BuildReport' })).json(), { outcome: 'rejected', problems: [{ message: /period/ }] })
    const other = (await setup.api('POST', '/api/v1/senders', { fullName: 'Boris', email: 'boris@sender.example' })).json()
    t.match((await send({ senderId: other.id, text: 'period = 2026-10' })).json(), { outcome: 'rejected', problems: [{ message: /boris@sender.example is not allowed to run "Monthly Report"/ }] })
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { processName: 'NoSuchProcess' })
    t.match((await send({ text: 'period = 2026-10' })).json(), { outcome: 'rejected', problems: [{ message: 'process "NoSuchProcess" was not found in folder "Finance"' }] })
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { processName: 'MonthlyReport' })
    t.equal(sim.jobs.length, 0)
  })

  t.test('a real run launches once, marked as a test, and emails nobody', async (t) => {
    const res = await send({ text: 'period = 2026-10\nBuildReport', dryRun: false })
    t.match(res.json(), { outcome: 'launched', launch: { state: 'launched', jobId: sim.jobs[0]?.Id } })
    t.equal(sim.jobs.length, 1)
    const listed = await fetch(`${sim.url}/simulator/jobs`)
    t.equal(listed.status, 200, "the simulator's own job list needs no token (the demo links to it)")
    t.match(await listed.json(), { jobs: [{ Id: sim.jobs[0]?.Id }] })
    const message = (await setup.api('GET', `/api/v1/messages/${res.json().messageId as string}`)).json()
    t.match(message, { door: 'console', status: 'accepted', reason: 'console test by the API (tenant key)', fromAddress: 'anna@sender.example', launchId: res.json().launch.id })
    const launch = (await setup.api('GET', `/api/v1/launches/${res.json().launch.id as string}`)).json()
    t.match(launch.history[0], { state: 'pending', detail: 'console test by the API (tenant key)' })
    t.same(await db.selectFrom('notifications').select('id').execute(), [], 'no reply is queued for a test')
    t.match((await setup.api('GET', '/api/v1/messages?door=console')).json().items, [{ id: res.json().messageId }])
  })

  t.test("another tenant's robot or sender is a 400 naming the field", async (t) => {
    const globex = await newTenant(app, 'Globex')
    await globex.api('POST', '/api/v1/mailboxes', { address: 'robots@globex.example' })
    const res = await globex.api('POST', '/api/v1/test-sends', { robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-10' })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { details: [{ field: 'robotId' }] })
  })
})
