import { sql } from 'kysely'
import t from 'tap'
import { takeListRead } from '../../src/orchestrator/list-budget.js'
import { newTenant } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// A young job is looked at 1, 2, 4, 8 … seconds after its launch, read by its id (not limited), so
// a short robot's end is known seconds after it happens, webhook or not. Older jobs: polling asks
// Orchestrator once per folder for all of a tenant's due jobs, and never makes more collection
// reads (which UiPath Cloud limits to 100 per tenant and minute) than the budget.

/** The minute-based budget resets on the minute: wait out its last seconds so one test step stays inside one minute. */
async function awayFromMinuteEnd (): Promise<void> {
  const second = new Date().getUTCSeconds()
  if (second >= 50) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000))
}

t.test(`job polling on ${testDatabaseKind}`, async (t) => {
  // A strict simulator: 10 collection reads a minute, so any read past mailrun's budget shows as a 429.
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'], listReadsPerMinute: 10 })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_ORCHESTRATOR_LIST_READS_PER_MINUTE: '3', MAILRUN_JOB_POLL_INTERVAL_S: '30' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const jobReads = () => sim.requests.filter((r) => r.method === 'GET' && /\/odata\/Jobs($|\()/.test(r.path))
  const lists = () => jobReads().filter((r) => r.path.endsWith('/odata/Jobs'))
  /** Every running job due now, launched long enough ago to be looked at by the interval. */
  const due = async () => { await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'`, launched_at: sql<Date>`now() - interval '5 minutes'` }).where('state', '=', 'launched').execute() }
  const secondsToNextLook = async (id: string): Promise<number> => Number((await db.selectFrom('launches').select(sql<number>`extract(epoch from next_attempt_at - launched_at)`.as('s')).where('id', '=', id).executeTakeFirstOrThrow()).s)

  const launches: Array<{ id: string, jobId: number }> = []
  for (let i = 0; i < 60; i++) launches.push((await setup.send(`period = 2026-${String(i).padStart(2, '0')}\nBuildReport`)).json().launch)
  t.equal(launches.filter((l) => typeof l.jobId === 'number').length, 60, 'sixty jobs running')

  t.test('a young job is looked at 1, 2, 4, 8 … s after its launch, by its id', async (t) => {
    const first = launches[0]?.id ?? ''
    const next = await secondsToNextLook(first)
    t.ok(next >= 0.9 && next <= 1.5, `first look ${next} s after the launch`)
    // Only this one due: the others wait.
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() + interval '1 hour'` }).where('state', '=', 'launched').where('id', '!=', first).execute()
    for (const [age, expected] of [[1.2, 2], [2.5, 4], [5, 8], [9, 16]] as const) {
      await db.updateTable('launches').set({ launched_at: sql<Date>`now() - ${`${age} seconds`}::interval`, next_attempt_at: sql<Date>`now() - interval '10 milliseconds'` }).where('id', '=', first).execute()
      const readsBefore = jobReads().length
      t.equal(await app.jobs.pollDue(), 0, 'still running')
      t.same(jobReads().slice(readsBefore).map((r) => r.path.replace(/^.*\/odata\//, '')), [`Jobs(${String(launches[0]?.jobId)})`], `looked at ${age} s after the launch, by id`)
      const then = await secondsToNextLook(first)
      t.ok(Math.abs(then - expected) < 0.2, `next look ${expected} s after the launch (${then})`)
    }
    // Past the young schedule: the interval (30 s here).
    await db.updateTable('launches').set({ launched_at: sql<Date>`now() - interval '70 seconds'`, next_attempt_at: sql<Date>`now() - interval '10 milliseconds'` }).where('id', '=', first).execute()
    await app.jobs.pollDue()
    const later = await secondsToNextLook(first)
    t.ok(later >= 99 && later <= 101, `then one interval later (${later} s after the launch)`)
    t.equal(lists().length, 0, 'no collection read for it')
  })

  t.test('young jobs are read one by one, at most fifty a pass; the others in the next pass, never in collection reads', async (t) => {
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'`, launched_at: sql<Date>`now() - interval '3 seconds'` }).where('state', '=', 'launched').execute()
    const before = jobReads().length
    t.equal(await app.jobs.pollDue(), 0)
    const first = jobReads().slice(before)
    t.equal(first.length, 50, 'fifty read in the first pass')
    t.ok(first.every((r) => /\/odata\/Jobs\(\d+\)$/.test(r.path)), 'each by id')
    t.equal(await app.jobs.pollDue(), 0)
    const second = jobReads().slice(before + 50)
    t.equal(second.length, 10, 'the other ten in the next pass')
    t.ok(second.every((r) => /\/odata\/Jobs\(\d+\)$/.test(r.path)), 'by id too')
    t.equal(new Set([...first, ...second].map((r) => r.path)).size, 60, 'each job once')
  })

  t.test('sixty running jobs in one folder: two collection reads, no single ones', async (t) => {
    await awayFromMinuteEnd()
    const listsBefore = lists().length
    const readsBefore = jobReads().length
    await due()
    t.equal(await app.jobs.pollDue({ older: false }), 0)
    t.equal(jobReads().length, readsBefore, 'a pass for young jobs only leaves older ones for the next full pass')
    t.equal(await app.jobs.pollDue(), 0, 'all still running')
    t.equal(lists().length - listsBefore, 2, 'fifty jobs per read')
    t.equal(jobReads().length - readsBefore, 2)
    t.match(lists()[listsBefore]?.query.get('$filter'), /^Id eq \d+( or Id eq \d+){49}$/)
  })

  t.test('finished jobs are recorded as far as the budget goes; the rest wait for the next minute', async (t) => {
    for (const launch of launches) await sim.setJobState(launch.jobId, 'Successful', { output: { out_Total: 1 } })
    await awayFromMinuteEnd()
    // The budget of 3 with two reads spent already this minute (done here, so the minute is known).
    await db.updateTable('orchestrator_list_budget').set({ used: 2, window_start: sql<Date>`date_trunc('minute', now())` }).execute()
    const listsBefore = lists().length
    await due()
    t.equal(await app.jobs.pollDue(), 50, 'one read left: fifty jobs')
    const stillDue = await db.selectFrom('launches').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'launched').where('next_attempt_at', '<=', sql<Date>`now()`).executeTakeFirstOrThrow()
    t.equal(Number(stillDue.n), 10, 'the ten the budget could not read were not claimed: still due, not pushed an interval back')
    await due()
    t.equal(await app.jobs.pollDue(), 0, 'the budget is spent: nothing more is read this minute')
    t.equal(lists().length - listsBefore, 1)
    t.notOk(sim.requests.some((r) => r.path.endsWith('/odata/Jobs') && r.method === 'GET' && r.query.get('$filter') === null), 'no unfiltered reads')

    // The next minute (as its window says): the other ten.
    await db.updateTable('orchestrator_list_budget').set({ window_start: sql<Date>`date_trunc('minute', now()) - interval '1 minute'` }).execute()
    await due()
    t.equal(await app.jobs.pollDue(), 10)
    const states = await db.selectFrom('launches').select('state').where('id', 'in', launches.map((l) => l.id)).execute()
    t.same(new Set(states.map((s) => s.state)), new Set(['completed']), 'every launch completed, once')
    const finishedReplies = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'finished').executeTakeFirstOrThrow()
    t.equal(Number(finishedReplies.n), 60, 'one "finished" reply each')
  })

  t.test('one due job is read by id, which is not limited', async (t) => {
    const one = (await setup.send('period = 2027-01\nBuildReport')).json().launch
    const listsBefore = lists().length
    await sim.setJobState(one.jobId, 'Faulted', { info: 'Element not found' })
    await db.updateTable('orchestrator_list_budget').set({ used: 3, window_start: sql<Date>`date_trunc('minute', now())` }).execute()
    await due()
    t.equal(await app.jobs.pollDue(), 1)
    t.ok(jobReads().some((r) => r.path.endsWith(`/odata/Jobs(${String(one.jobId)})`)))
    t.equal(lists().length, listsBefore, 'no collection read')
  })

  t.test('the simulator answers 429 past its limit, as Orchestrator does', async (t) => {
    const token = await (await fetch(`${sim.url}/identity_/connect/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=sim-client&client_secret=sim-secret&scope=OR.Jobs' })).json() as { access_token: string }
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${sim.url}/acme/DefaultTenant/orchestrator_/odata/Jobs?$filter=${encodeURIComponent("Reference eq 'x'")}`, { headers: { authorization: `Bearer ${token.access_token}`, 'x-uipath-organizationunitid': '101' } })
      statuses.push(res.status)
      if (res.status === 429) t.match(Number(res.headers.get('retry-after')), Number, 'with Retry-After')
      await res.arrayBuffer()
    }
    t.ok(statuses.includes(429), `statuses ${statuses.join(',')}`)
  })
})

t.test(`the list budget is shared through the database, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const tenant = await newTenant(app, 'Budget')
  await awayFromMinuteEnd()
  const taken: boolean[] = []
  for (let i = 0; i < 5; i++) taken.push(await takeListRead(database.db, tenant.id, 3))
  t.same(taken, [true, true, true, false, false])
  await database.db.updateTable('orchestrator_list_budget').set({ window_start: sql<Date>`date_trunc('minute', now()) - interval '1 minute'` }).execute()
  t.equal(await takeListRead(database.db, tenant.id, 3), true, 'a new minute, a new budget')
  t.equal(await takeListRead(database.db, tenant.id, 0), false, 'none at all with a budget of 0')
})

// One tenant's backlog of due jobs never holds another tenant's back: a pass takes each tenant's
// first due job before any tenant's second, within the budget each tenant has left.
t.test(`a tenant with a backlog does not hold another tenant's jobs back, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_ORCHESTRATOR_LIST_READS_PER_MINUTE: '1', MAILRUN_JOB_POLL_INTERVAL_S: '30' } })
  const db = database.db
  const busy = await setUpLaunching(app, sim)
  const quiet = await setUpLaunching(app, sim, {}, {}, { tenant: 'Quiet', address: 'robots@quiet.example' })
  for (let i = 0; i < 30; i++) t.equal((await busy.send(`period = 2026-${String(i).padStart(2, '0')}\nBuildReport`)).statusCode, 200)
  const lone = (await quiet.send('period = 2027-01\nBuildReport')).json().launch
  t.match(lone, { state: 'launched' })
  // All older and due; the quiet tenant's job due last.
  await db.updateTable('launches').set({ launched_at: sql<Date>`now() - interval '5 minutes'`, next_attempt_at: sql<Date>`now() - interval '1 minute'` }).where('state', '=', 'launched').where('id', '!=', lone.id).execute()
  await db.updateTable('launches').set({ launched_at: sql<Date>`now() - interval '5 minutes'`, next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', lone.id).execute()
  await sim.setJobState(lone.jobId, 'Successful')
  t.equal(await app.jobs.pollDue({ limit: 2 }), 1, 'a pass of two: the quiet tenant\'s job is one of them, recorded')
  t.equal((await db.selectFrom('launches').select('state').where('id', '=', lone.id).executeTakeFirstOrThrow()).state, 'completed')
})
