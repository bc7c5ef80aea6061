import { sql } from 'kysely'
import t from 'tap'
import { backoffMs } from '../../src/launch/launch-service.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

t.test(`launching through the Orchestrator simulator on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport', 'Payroll'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const finance = sim.folders.find((f) => f.FullyQualifiedName === 'Finance')
  const launchRow = async (id: string) => await db.selectFrom('launches').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const startJobsCalls = () => sim.requests.filter((r) => r.path.endsWith('StartJobs'))

  t.test('an email starts exactly one job, and the door answers its id', async (t) => {
    const before = startJobsCalls().length
    const answer = (await setup.send()).json()
    t.match(answer, { status: 'accepted', launch: { state: 'launched', jobId: Number, jobKey: String } })
    const job = sim.jobs.find((j) => j.Id === answer.launch.jobId)
    t.ok(job)
    t.equal(startJobsCalls().length, before + 1)
    const request = startJobsCalls().pop()
    const release = sim.releases.find((r) => r.Name === 'MonthlyReport' && r.OrganizationUnitId === finance?.Id)
    t.same(JSON.parse(request?.body ?? '{}'), {
      startInfo: {
        ReleaseKey: release?.Key,
        Strategy: 'ModernJobsCount',
        JobsCount: 1,
        InputArguments: JSON.stringify({ period: '2026-10', in_Functions: JSON.stringify([{ name: 'ExtractData', args: { region: 'North' } }, { name: 'BuildReport', args: {} }]) }),
        Reference: answer.launch.id
      }
    }, 'the StartJobs body is what the contract asks for')
    t.equal(request?.headers['x-uipath-organizationunitid'], String(finance?.Id), 'one folder header, the robot folder')
    t.match(await launchRow(answer.launch.id), { state: 'launched', attempts: 1, job_id: answer.launch.jobId, job_key: job?.Key })
    const robot = await db.selectFrom('robots').select(['cached_folder_id', 'cached_release_key']).where('id', '=', setup.robotId).executeTakeFirstOrThrow()
    t.same(robot, { cached_folder_id: finance?.Id, cached_release_key: release?.Key }, 'ids are cached on the robot')
    const detail = (await setup.api('GET', `/api/v1/launches/${answer.launch.id}`)).json()
    t.match(detail, { state: 'launched', jobId: answer.launch.jobId, history: [{ state: 'pending' }, { state: 'launched', detail: /started/ }] })
  })

  t.test('later launches use the cached folder and process', async (t) => {
    const before = sim.requests.length
    t.equal((await setup.send()).json().launch.state, 'launched')
    t.same(sim.requests.slice(before).map((r) => r.path.split('/').pop()), ['UiPath.Server.Configuration.OData.StartJobs'])
  })

  t.test('a process re-published under a new key drops the cache and launches', async (t) => {
    const release = sim.releases.find((r) => r.Name === 'MonthlyReport' && r.OrganizationUnitId === finance?.Id)
    if (release !== undefined) release.Key = 'b5a0c1de-0000-4000-8000-000000000001'
    const answer = (await setup.send()).json()
    t.equal(answer.launch.state, 'launched')
    t.equal((await db.selectFrom('robots').select('cached_release_key').where('id', '=', setup.robotId).executeTakeFirstOrThrow()).cached_release_key, release?.Key)
  })

  const refusals: Array<[string, () => void, RegExp, string | null]> = [
    ['no machine with an unattended runtime', () => { sim.fail(/StartJobs$/, 409, { message: 'No machines available', errorCode: 2818, traceId: 'trace-2818' }) }, /no robot machine with an unattended runtime is available in folder "Finance"/, '2818'],
    ['no user with an unattended robot', () => { sim.fail(/StartJobs$/, 409, { message: 'No user', errorCode: 1671, traceId: 'trace-1671' }) }, /no user with an unattended robot is assigned to folder "Finance"/, '1671'],
    ['no permission', () => { sim.fail(/StartJobs$/, 403, { message: 'You are not authorized!', errorCode: 0, traceId: 'trace-403' }) }, /lack a permission/, '0']
  ]
  for (const [name, arrange, reason, code] of refusals) {
    t.test(`${name}: the launch fails at once, in plain words, with Orchestrator's errorCode and traceId`, async (t) => {
      arrange()
      const answer = (await setup.send()).json()
      t.match(answer.launch, { state: 'failed', reason })
      const row = await launchRow(answer.launch.id)
      t.match(row, { state: 'failed', attempts: 1, error_code: code, trace_id: /^trace-/ })
    })
  }

  t.test('an unknown process or folder fails with its name', async (t) => {
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Ghost', processName: 'GhostProcess', allowAllSenders: true })).statusCode, 201)
    t.match((await setup.send('Run', { subject: 'Ghost' })).json().launch, { state: 'failed', reason: 'process "GhostProcess" was not found in folder "Finance"' })
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Lost', processName: 'Payroll', folder: "Nobody's Folder", allowAllSenders: true })).statusCode, 201)
    t.match((await setup.send('Run', { subject: 'Lost' })).json().launch, { state: 'failed', reason: /folder "Nobody's Folder" was not found/ })
  })

  t.test('throttling (429 with Retry-After) is retried no sooner than asked, then launches', async (t) => {
    sim.fail(/StartJobs$/, 429, { message: 'Too many requests', errorCode: 0, traceId: 't' }, { 'retry-after': '120' })
    const answer = (await setup.send()).json()
    t.match(answer.launch, { state: 'retrying', reason: 'Orchestrator is throttling requests' })
    const row = await launchRow(answer.launch.id)
    t.equal(row.state, 'pending')
    t.ok((row.next_attempt_at?.getTime() ?? 0) - Date.now() > 115_000, 'the next attempt waits for Retry-After')
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', row.id).execute()
    t.equal(await app.launches.runDue(), 1)
    t.match(await launchRow(row.id), { state: 'launched', attempts: 2 })
  })

  t.test('a 502 after the job was created starts one job, not two', async (t) => {
    const before = sim.jobs.length
    sim.failAfterCreate(502)
    const answer = (await setup.send()).json()
    t.match(answer.launch, { state: 'retrying' })
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
    t.equal(await app.launches.runDue(), 1)
    t.equal(sim.jobs.length, before + 1, 'one job in Orchestrator')
    const created = sim.jobs[sim.jobs.length - 1]
    t.match(await launchRow(answer.launch.id), { state: 'launched', job_id: created?.Id })
    t.ok(sim.requests.some((r) => r.path.endsWith('/odata/Jobs') && r.query.get('$filter') === `Reference eq '${String(answer.launch.id)}'`), 'looked up by Reference before posting again')
  })

  t.test('a dropped connection and a server error are retried; a launch that keeps failing gives up with the reason', async (t) => {
    sim.drop(/StartJobs$/)
    const dropped = (await setup.send()).json()
    t.match(dropped.launch, { state: 'retrying', reason: /could not reach Orchestrator/ })
    sim.fail(/StartJobs$/, 503, { message: 'Service unavailable', errorCode: 0, traceId: 't' }, undefined, 100)
    const failing = (await setup.send()).json()
    t.match(failing.launch, { state: 'retrying', reason: 'Orchestrator had a server error (503)' })
    for (let i = 0; i < 15; i++) {
      await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('state', '=', 'pending').execute()
      await app.launches.runDue()
    }
    t.match(await launchRow(failing.launch.id), { state: 'failed', attempts: 12, last_error: /^gave up after 12 attempts: Orchestrator had a server error \(503\)/ })
    // The dropped StartJobs may have reached the server: that launch only looks its job up until
    // the quiet period ends (tests/faults/slow-start.test.ts follows it to the end).
    t.match(await launchRow(dropped.launch.id), { state: 'pending', unsure_since: Date, last_error: /not found yet after an unclear start/ })
    t.equal(sim.requests.filter((r) => r.path.endsWith('StartJobs') && r.body.includes(dropped.launch.id)).length, 1, 'the dropped start was not sent again')
  })

  t.test('/metrics counts launches by state and their latency', async (t) => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    t.match(text, /^mailrun_launch_transitions_total\{state="launched"\} [1-9]\d*$/m)
    t.match(text, /^mailrun_launch_transitions_total\{state="failed"\} [1-9]\d*$/m)
    t.match(text, /^mailrun_launch_transitions_total\{state="retrying"\} [1-9]\d*$/m)
    t.match(text, /^mailrun_launch_seconds_count [1-9]\d*$/m)
  })

  t.test('the backoff doubles with jitter and is capped', async (t) => {
    t.same([1, 2, 3, 4].map((n) => backoffMs(n, () => 0)), [1000, 2000, 4000, 8000])
    t.same([1, 2, 3].map((n) => backoffMs(n, () => 1)), [2000, 4000, 8000])
    t.equal(backoffMs(30, () => 1), 300_000)
  })
})
