import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { addAllowedSender, eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// CANCEL by email (#17, part 2): a running job is stopped through StopJobs (SoftStop, or Kill when
// asked), a launch not started yet is cancelled before StartJobs, and nobody cancels what is not
// theirs.

t.test(`cancel by email, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  await addAllowedSender(setup, 'Boris Ivanov', 'boris@sender.example')
  const BORIS = 'Boris Ivanov <boris@sender.example>'

  const launched = async (body: string) => {
    const answer = (await setup.send(body)).json()
    return await eventually(async () => await db.selectFrom('launches').selectAll().where('message_id', '=', answer.message).where('state', '=', 'launched').executeTakeFirst())
  }
  const ask = async (subject: string, options: { from?: string, body?: string, headers?: Record<string, string> } = {}) => {
    const answer = (await setup.send(options.body ?? '', { subject, ...(options.from !== undefined ? { from: options.from } : {}), ...(options.headers !== undefined ? { headers: options.headers } : {}) })).json()
    const reply = await eventually(async () => await db.selectFrom('notifications').select(['text_body', 'kind']).where('message_id', '=', answer.message).executeTakeFirst())
    t.equal(reply.kind, 'cancel')
    return { reason: answer.reason as string, text: reply.text_body }
  }
  const stopJobs = () => sim.requests.filter((r) => r.path.endsWith('OData.StopJobs'))
  const launchState = async (id: string) => (await db.selectFrom('launches').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state

  t.test('a running job is stopped (SoftStop) and ends "stopped", with who stopped it', async (t) => {
    const launch = await launched('period = 2026-09\nBuildReport')
    const stranger = await ask(`cancel ${String(launch.job_id)}`, { from: BORIS })
    t.match(stranger.text, /^None of your launches matches/, 'not Boris\'s to cancel')
    t.equal(stopJobs().length, 0, 'nothing was asked of Orchestrator')
    const { reason, text } = await ask(`Cancel ${String(launch.job_id)}`)
    t.equal(reason, 'cancel requested: stop_requested')
    t.match(text, new RegExp(`^Robot "Monthly Report" \\(job ${String(launch.job_id)}\\) is being stopped\\.`))
    const [stop] = stopJobs()
    t.same(JSON.parse(stop?.body ?? '{}'), { jobIds: [launch.job_id], strategy: 'SoftStop' })
    await eventually(async () => sim.jobs.find((j) => j.Id === launch.job_id)?.State === 'Stopped')
    await app.jobs.pollDue()
    t.equal(await launchState(launch.id), 'stopped')
    const events = await db.selectFrom('launch_events').select(['state', 'detail']).where('launch_id', '=', launch.id).orderBy('id').execute()
    t.match(events.map((e) => e.detail), [/command accepted/, /./, /stop requested by anna@sender\.example/, /job Stopped/])
    const finished = await eventually(async () => await db.selectFrom('notifications').select('text_body').where('launch_id', '=', launch.id).where('kind', '=', 'finished').executeTakeFirst())
    t.match(finished.text_body, /was stopped/)
    t.match((await ask(`cancel ${String(launch.job_id)}`)).text, /has already ended \(stopped\)/)
  })

  t.test('"cancel kill" as a reply in the thread kills the job', async (t) => {
    const launch = await launched('period = 2026-10\nBuildReport')
    const original = (await db.selectFrom('messages').select('dedupe_key').where('id', '=', launch.message_id).executeTakeFirstOrThrow()).dedupe_key
    const { reason, text } = await ask('Re: Monthly Report', { body: 'Cancel kill\n\n> Robot "Monthly Report" has been started.', headers: { 'In-Reply-To': '<reply@mailrun.example>', References: `${original} <reply@mailrun.example>` } })
    t.equal(reason, 'cancel requested in a thread: stop_requested')
    t.match(text, /is being killed/)
    t.same(JSON.parse(stopJobs().at(-1)?.body ?? '{}'), { jobIds: [launch.job_id], strategy: 'Kill' })
    await eventually(async () => sim.jobs.find((j) => j.Id === launch.job_id)?.State === 'Stopped')
  })

  t.test('a launch not started yet is cancelled before StartJobs', async (t) => {
    // Orchestrator throttles every start for now: the launch waits, pending, and nothing started.
    sim.fail(/StartJobs$/, 429, { message: 'Too many requests', errorCode: 0 }, { 'retry-after': '600' }, 50)
    const answer = (await setup.send('period = 2026-11\nBuildReport')).json()
    const launch = await eventually(async () => await db.selectFrom('launches').selectAll().where('message_id', '=', answer.message).where('state', '=', 'pending').where('attempts', '>=', 1).executeTakeFirst())
    t.equal(launch.unsure_since, null, 'a 429 never started a job')
    const jobsBefore = sim.jobs.length
    const { text } = await ask(`отмена ${launch.id}`)
    t.match(text, /will not run: it was cancelled before it started/)
    t.equal(await launchState(launch.id), 'stopped')
    await app.launches.runDue()
    t.equal(sim.jobs.length, jobsBefore, 'and it is never started afterwards')
    t.equal(await launchState(launch.id), 'stopped')
  })

  t.test('cancel without saying which', async (t) => {
    t.match((await ask('cancel')).text, /^Which launch\? Reply "cancel"/)
  })
})
