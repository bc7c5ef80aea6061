import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Acting on a launch from the API (issue #29): cancel (the same path as a CANCEL email), kill, and
// retry of a launch that gave up — once, looked up by Reference first.

t.test(`cancel and retry through the API on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_LAUNCH_MAX_ATTEMPTS: '3' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const launch = async (id: string) => (await setup.api('GET', `/api/v1/launches/${id}`)).json()

  t.test('a running job is stopped, or killed, and the history says who', async (t) => {
    const answer = (await setup.send()).json()
    await sim.setJobState(answer.launch.jobId, 'Running')
    const stop = await setup.api('POST', `/api/v1/launches/${String(answer.launch.id)}/cancel`, {})
    t.equal(stop.statusCode, 200, stop.body)
    t.match(stop.json(), { outcome: 'stop_requested', jobId: answer.launch.jobId, launch: { id: answer.launch.id, state: 'launched' } })
    t.match(sim.requests.filter((r) => r.path.endsWith('StopJobs')).at(-1), { body: /"strategy":"SoftStop"/ })
    t.match((await launch(answer.launch.id)).history.at(-1), { detail: /^stop requested by API key mrt_[\w-]+ \(tests\)$/ })

    const killed = await setup.api('POST', `/api/v1/launches/${String(answer.launch.id)}/cancel`, { kill: true })
    t.match(killed.json(), { outcome: 'stop_requested' })
    t.match(sim.requests.filter((r) => r.path.endsWith('StopJobs')).at(-1), { body: /"strategy":"Kill"/ })
    await sim.setJobState(answer.launch.jobId, 'Stopped')
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
    await eventually(async () => { await app.jobs.pollDue(); return (await launch(answer.launch.id)).state === 'stopped' })
    const ended = await setup.api('POST', `/api/v1/launches/${String(answer.launch.id)}/cancel`, {})
    t.equal(ended.statusCode, 409)
    t.match(ended.json().message, /already ended \(stopped\)/)
  })

  t.test('a launch not started yet is cancelled before it starts', async (t) => {
    sim.fail(/StartJobs$/, 503, { message: 'busy' }, undefined, 1)
    const answer = (await setup.send()).json()
    const jobs = sim.jobs.length
    t.equal((await db.selectFrom('launches').select('state').where('id', '=', answer.launch.id).executeTakeFirstOrThrow()).state, 'pending', 'Orchestrator was busy: waiting for its next attempt')
    await db.updateTable('launches').set({ unsure_since: null, locked_until: null }).where('id', '=', answer.launch.id).execute()
    const cancelled = await setup.api('POST', `/api/v1/launches/${String(answer.launch.id)}/cancel`, {})
    t.match(cancelled.json(), { outcome: 'cancelled', launch: { state: 'stopped' } })
    await app.launches.runDue()
    t.equal(sim.jobs.length, jobs, 'and never starts')
  })

  t.test('retry: only a failed launch, once, looked up by Reference before any start', async (t) => {
    const running = (await setup.send()).json()
    const notFailed = await setup.api('POST', `/api/v1/launches/${String(running.launch.id)}/retry`)
    t.equal(notFailed.statusCode, 409)
    t.match(notFailed.json().message, /only a launch that ended failed can be retried; this one is launched/)

    // A launch that gave up after a start whose answer was lost: Orchestrator did create the job.
    sim.failAfterCreate(502, 1)
    const lost = (await setup.send()).json()
    await db.updateTable('launches').set({ state: 'failed', last_error: 'gave up after 1 attempt', unsure_since: null, finished_at: new Date() }).where('id', '=', lost.launch.id).execute()
    const jobs = sim.jobs.length
    const retried = await setup.api('POST', `/api/v1/launches/${String(lost.launch.id)}/retry`)
    t.equal(retried.statusCode, 200, retried.body)
    t.match(retried.json(), { state: 'launched', launch: { state: 'launched', jobId: Number } })
    t.equal(sim.jobs.length, jobs, 'the job the lost start created was found by Reference: no second job')
    t.match((await launch(lost.launch.id)).history.map((e: { detail: string }) => e.detail), [/./, /./, /retried by API key/, /found by reference/])
    t.equal((await setup.api('POST', `/api/v1/launches/${String(lost.launch.id)}/retry`)).statusCode, 409, 'a second retry of the same launch: it is not failed any more')

    // A launch that failed before any request left: the retry starts it, once.
    const refused = (await setup.send()).json()
    await db.updateTable('launches').set({ state: 'failed', job_id: null, job_key: null, last_error: 'Orchestrator refused the credentials', finished_at: new Date() }).where('id', '=', refused.launch.id).execute()
    const refusedJob = sim.jobs.findIndex((j) => j.Reference === refused.launch.id)
    t.ok(refusedJob >= 0, 'its first start is in Orchestrator, to be taken away')
    sim.jobs.splice(refusedJob, 1)
    const before = sim.jobs.length
    const [a, b] = await Promise.all([setup.api('POST', `/api/v1/launches/${String(refused.launch.id)}/retry`), setup.api('POST', `/api/v1/launches/${String(refused.launch.id)}/retry`)])
    t.same([a.statusCode, b.statusCode].sort(), [200, 409], 'two retries at once: one wins')
    // The winner's attempt may be the queue's (a claim that met the other request's row lock is
    // left to it, answered "pending"): wait until the launch has settled, then count.
    const until = Date.now() + 10_000
    while ((await launch(refused.launch.id)).state !== 'launched' && Date.now() < until) {
      await app.launches.runDue()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.equal((await launch(refused.launch.id)).state, 'launched')
    t.equal(sim.jobs.length, before + 1, 'one job')
  })

  t.test('the console acts with a redirect, so a reload never acts twice; a viewer only sees', async (t) => {
    const adaUser = (await setup.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: 'ada admin password' })).json()
    t.equal((await setup.api('PATCH', `/api/v1/users/${String(adaUser.id)}`, { locale: 'ru' })).statusCode, 200)
    await setup.api('POST', '/api/v1/users', { email: 'vic@acme.example', name: 'Vic', role: 'viewer', password: 'vic viewer password' })
    const { get, post, signIn } = consoleClient(app)
    const { jar: ada } = await signIn('ada@acme.example', 'ada admin password')
    const answer = (await setup.send()).json()
    await sim.setJobState(answer.launch.jobId, 'Running')
    const page = await get(ada, `/console/launches/${String(answer.launch.id)}`)
    t.match(page.body, /Действия с запуском/)
    const stops = (): number => sim.requests.filter((r) => r.path.endsWith('StopJobs')).length
    const before = stops()
    const acted = await post(ada, `/console/launches/${String(answer.launch.id)}/cancel`, { _csrf: csrfOf(page.body), kill: 'on' })
    t.equal(acted.statusCode, 303)
    t.equal(acted.headers.location, `/console/launches/${String(answer.launch.id)}?done=kill_requested`)
    const shown = await get(ada, String(acted.headers.location))
    t.match(shown.body, /Orchestrator получил запрос на принудительное завершение задания/)
    t.match(shown.body, /принудительное завершение запросил\(а\) Ada \(консоль\)/, 'the history says who, in Russian')
    await get(ada, String(acted.headers.location))
    t.equal(stops(), before + 1, 'reloading the answer does not ask again')

    const failed = (await setup.send()).json()
    await db.updateTable('launches').set({ state: 'failed', last_error: 'gave up', finished_at: new Date() }).where('id', '=', failed.launch.id).execute()
    const retryPage = await get(ada, `/console/launches/${String(failed.launch.id)}`)
    const retried = await post(ada, `/console/launches/${String(failed.launch.id)}/retry`, { _csrf: csrfOf(retryPage.body) })
    t.equal(retried.headers.location, `/console/launches/${String(failed.launch.id)}?done=retried`)
    const again = await post(ada, `/console/launches/${String(failed.launch.id)}/retry`, { _csrf: csrfOf(retryPage.body) })
    t.equal(again.statusCode, 409)
    t.match(again.body, /Повторить можно только запуск в состоянии «не запущен»; этот — «запущен»/)

    const { jar: vic } = await signIn('vic@acme.example', 'vic viewer password')
    const viewerPage = await get(vic, `/console/launches/${String(answer.launch.id)}`)
    t.notMatch(viewerPage.body, /\/cancel"/, 'a viewer sees no action')
    t.equal((await post(vic, `/console/launches/${String(answer.launch.id)}/cancel`, { _csrf: csrfOf(viewerPage.body) })).statusCode, 403)
  })

  t.test("another tenant's launch is a 404, as a missing one", async (t) => {
    t.equal((await setup.api('POST', '/api/v1/launches/00000000-0000-4000-8000-000000000000/cancel', {})).statusCode, 404)
    t.equal((await setup.api('POST', '/api/v1/launches/00000000-0000-4000-8000-000000000000/retry')).statusCode, 404)
  })
})
