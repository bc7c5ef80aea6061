import { sql } from 'kysely'
import t from 'tap'
import { takeListRead } from '../../src/orchestrator/list-budget.js'
import { newTenant } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Job polling asks Orchestrator once per folder for all of a tenant's due jobs, and never makes
// more collection reads (which UiPath Cloud limits to 100 per tenant and minute) than the budget.

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
  const due = async () => { await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('state', '=', 'launched').execute() }

  const launches: Array<{ id: string, jobId: number }> = []
  for (let i = 0; i < 60; i++) launches.push((await setup.send(`period = 2026-${String(i).padStart(2, '0')}\nBuildReport`)).json().launch)
  t.equal(launches.filter((l) => typeof l.jobId === 'number').length, 60, 'sixty jobs running')

  t.test('a launched job is first looked at one interval later (a webhook usually tells first)', async (t) => {
    t.equal(await app.jobs.pollDue(), 0)
    t.equal(jobReads().length, 0, 'nothing asked right after the launch')
    const next = await db.selectFrom('launches').select(sql<number>`extract(epoch from next_attempt_at - launched_at)`.as('s')).where('id', '=', launches[0]?.id ?? '').executeTakeFirstOrThrow()
    t.ok(Number(next.s) >= 29 && Number(next.s) <= 31, `next look ${Number(next.s)} s after the launch`)
  })

  t.test('sixty running jobs in one folder: two collection reads, no single ones', async (t) => {
    await awayFromMinuteEnd()
    await due()
    t.equal(await app.jobs.pollDue(), 0, 'all still running')
    t.equal(lists().length, 2, 'fifty jobs per read')
    t.equal(jobReads().length, 2)
    t.match(lists()[0]?.query.get('$filter'), /^Id eq \d+( or Id eq \d+){49}$/)
  })

  t.test('finished jobs are recorded as far as the budget goes; the rest wait for the next minute', async (t) => {
    for (const launch of launches) await sim.setJobState(launch.jobId, 'Successful', { output: { out_Total: 1 } })
    await awayFromMinuteEnd()
    // The budget of 3 with two reads spent already this minute (done here, so the minute is known).
    await db.updateTable('orchestrator_list_budget').set({ used: 2, window_start: sql<Date>`date_trunc('minute', now())` }).execute()
    await due()
    t.equal(await app.jobs.pollDue(), 50, 'one read left: fifty jobs')
    await due()
    t.equal(await app.jobs.pollDue(), 0, 'the budget is spent: nothing more is read this minute')
    t.equal(lists().length, 3)
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
