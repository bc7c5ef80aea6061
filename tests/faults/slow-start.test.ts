import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { openDatabase } from '../../src/db/database.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind, type TestDatabase } from '../support/database.js'
import { eventually, setUpLaunching, type LaunchSetup } from '../support/launching.js'
import { startOrchestratorSimulator, type OrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Fault suite: a StartJobs (or AddQueueItem) that the server answers late, or never, must still
// leave at most one job per launch — whatever the delay, with one worker or two.

/** Runs the durable launch queue as the background loop does, until the test ends. */
function runQueue (t: Test, app: FastifyInstance, everyMs = 200): void {
  const state = { stopped: false }
  const loop = (async () => {
    while (!state.stopped) {
      await app.launches.runDue().catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  t.teardown(async () => { state.stopped = true; await loop })
}

// The three scenarios below are independent (each its own simulator and database) and mostly wait
// on real time (15 s and 60 s starts): they run side by side, buffered, not one after another.
t.jobs = 3

const jobsFor = (sim: OrchestratorSimulator, launchId: string) => sim.jobs.filter((j) => j.Reference === launchId)
const itemsFor = (sim: OrchestratorSimulator, launchId: string) => sim.queueItems.filter((q) => q.Reference === launchId)

async function launched (app: FastifyInstance, id: string, ms: number) {
  return await eventually(async () => {
    const row = await app.db.selectFrom('launches').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    return row.state === 'launched' && row
  }, ms)
}

t.test(`a slow StartJobs starts one job at 15 s and 60 s, with the default time limits, on ${testDatabaseKind}`, { buffered: true }, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app } = await buildTestApp(t, { env: { MAILRUN_LAUNCH_DEADLINE_MS: '400' } })
  const setup = await setUpLaunching(app, sim)
  runQueue(t, app)
  sim.delay(/StartJobs$/, 15_000)
  sim.delay(/StartJobs$/, 60_000)
  const sent = Date.now()
  const answers = await Promise.all([setup.send(), setup.send()].map(async (p) => (await p).json()))
  for (const answer of answers) t.match(answer.launch, { state: 'retrying' }, 'the door answers at its deadline without abandoning the start')
  const rows = []
  for (const answer of answers) rows.push(await launched(app, answer.launch.id, 75_000))
  // Every delayed request has been answered by now: a second job would be there.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, sent + 61_000 - Date.now())))
  for (const [i, answer] of answers.entries()) {
    const row = rows[i]
    t.equal(jobsFor(sim, answer.launch.id).length, 1, 'one job for the launch')
    t.equal(row?.job_id, jobsFor(sim, answer.launch.id)[0]?.Id, 'the job the server created is the one recorded')
  }
  t.equal(sim.requests.filter((r) => r.path.endsWith('StartJobs')).length, 2, 'StartJobs was sent once per launch')
})

t.test(`a start answered after the client gave up is found, not repeated, on ${testDatabaseKind}`, { buffered: true }, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'], queues: ['Invoices'] })
  t.teardown(sim.close)
  const { app } = await buildTestApp(t, { env: { MAILRUN_LAUNCH_DEADLINE_MS: '300', MAILRUN_START_TIMEOUT_MS: '800', MAILRUN_LAUNCH_QUIET_MS: '5000' } })
  const setup = await setUpLaunching(app, sim)
  runQueue(t, app)

  t.test('the job lands 2.5 s after the client stopped waiting: found by Reference, one job', async (t) => {
    sim.delay(/StartJobs$/, 3_300)
    const answer = (await setup.send()).json()
    const row = await launched(app, answer.launch.id, 15_000)
    t.equal(jobsFor(sim, answer.launch.id).length, 1)
    t.equal(row.unsure_since, null, 'sure again once the job is found')
    const history = await app.db.selectFrom('launch_events').select(['state', 'detail']).where('launch_id', '=', answer.launch.id).orderBy('id').execute()
    const states = history.map((h) => h.state)
    t.same([states[0], states[1], states[states.length - 1]], ['pending', 'unsure', 'launched'], 'the history says the start was unclear')
    t.same(new Set(states.slice(1, -1)), new Set(['unsure']), 'and only looked until the job was found')
    t.match(history[history.length - 1]?.detail, /found by reference/)
  })

  t.test('a start the server never received: only look-ups during the quiet period, then one new start', async (t) => {
    sim.drop(/StartJobs$/)
    const started = Date.now()
    const answer = (await setup.send()).json()
    await launched(app, answer.launch.id, 20_000)
    t.ok(Date.now() - started >= 5_000, 'not started again before the quiet period ended')
    t.equal(jobsFor(sim, answer.launch.id).length, 1)
    const lookups = sim.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/odata/Jobs') && (r.query.get('$filter') ?? '').includes(answer.launch.id))
    t.ok(lookups.length >= 2, 'the job was looked for more than once before starting again')
  })

  t.test('queue mode: an AddQueueItem answered late adds one item', async (t) => {
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Invoices', launchMode: 'queue', queueName: 'Invoices', allowAllSenders: true })).statusCode, 201)
    sim.delay(/AddQueueItem$/, 2_500)
    const answer = (await setup.send('invoice = 42\nPost: amount = 10.5', { subject: 'Invoices' })).json()
    const row = await launched(app, answer.launch.id, 15_000)
    t.equal(itemsFor(sim, answer.launch.id).length, 1)
    t.equal(row.job_key, itemsFor(sim, answer.launch.id)[0]?.Key, 'the item found is recorded')
  })

  t.test('a 502 after the job was created: one job', async (t) => {
    sim.failAfterCreate(502)
    const answer = (await setup.send()).json()
    await launched(app, answer.launch.id, 10_000)
    t.equal(jobsFor(sim, answer.launch.id).length, 1)
  })
})

t.test(`two mailrun workers on one database and a 15 s StartJobs: one job, on ${testDatabaseKind}`, { buffered: true }, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const first = await buildTestApp(t, { env: { MAILRUN_LAUNCH_DEADLINE_MS: '400', MAILRUN_LAUNCH_CLAIM_MS: '3000' } })
  // PostgreSQL: a second pool on the same database, as a second replica has. PGlite is one
  // process's database: the second app shares its handle.
  const url = (first.database as TestDatabase).url
  const database = url !== undefined ? await openDatabase({ kind: 'postgres', url }) : first.database
  if (url !== undefined) t.teardown(async () => { await database.close() })
  const second = await buildTestApp(t, { database, env: { MAILRUN_LAUNCH_DEADLINE_MS: '400', MAILRUN_LAUNCH_CLAIM_MS: '3000' } })
  const setup: LaunchSetup = await setUpLaunching(first.app, sim)
  runQueue(t, first.app)
  runQueue(t, second.app)
  sim.delay(/StartJobs$/, 15_000)
  const answer = (await setup.send()).json()
  t.match(answer.launch, { state: 'retrying' })
  await launched(first.app, answer.launch.id, 25_000)
  // Both workers keep polling a little longer: a late duplicate would show now.
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  t.equal(jobsFor(sim, answer.launch.id).length, 1, 'one job although both workers saw the launch for 15 s')
  t.equal(sim.requests.filter((r) => r.path.endsWith('StartJobs')).length, 1, 'the claim, renewed while the start ran, kept the other worker off')
})
