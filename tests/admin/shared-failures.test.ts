import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { eventually } from '../support/launching.js'
import { newTenant } from '../support/admin.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'

// Two mailrun processes on one database (#28 item 3): failed credentials are counted in the
// database, so a guesser who spreads over the replicas gets the allowance once, not once per
// replica.

t.test(`failed credentials are counted across processes sharing the database, on ${testDatabaseKind}`, async (t) => {
  const database = await createTestDatabase(t)
  const env = { MAILRUN_AUTH_FAILURE_LIMIT: '20', MAILRUN_ADMIN_RATE_LIMIT: '100000' }
  const { app: one } = await buildTestApp(t, { database, env })
  const { app: two } = await buildTestApp(t, { database, env })
  const tenant = await newTenant(one, 'Acme')
  const guess = async (app: typeof one, i: number): Promise<number> => (await app.inject({ method: 'GET', url: '/api/v1/senders', remoteAddress: '198.51.100.20', headers: { authorization: `Bearer mrt_guess-${i}` } })).statusCode

  const statuses: number[] = []
  const counted = async (): Promise<number> => Number((await database.db.selectFrom('auth_failures').select((eb) => eb.fn.sum<number>('failures').as('n')).executeTakeFirst())?.n ?? 0)
  // Alternating between the two, as a load balancer spreads them. Each failure is recorded before
  // the next guess (a guesser no faster than the database), so the bound below is exact.
  for (let i = 0; i < 60; i++) {
    statuses.push(await guess(i % 2 === 0 ? one : two, i))
    const failures = statuses.filter((s) => s === 401).length
    await eventually(async () => (await counted()) === failures)
  }
  const verified = statuses.filter((s) => s === 401).length
  t.ok(verified >= 20 && verified <= 22, `${verified} guesses were checked before both refused (20 allowed, at most one more per process); each alone would have checked 20`)
  t.same(statuses.slice(-10), Array(10).fill(429))
  for (const app of [one, two]) {
    const right = await app.inject({ method: 'GET', url: '/api/v1/senders', remoteAddress: '198.51.100.20', headers: { authorization: `Bearer ${tenant.api.key}` } })
    t.equal(right.statusCode, 429, 'even the right key waits, on either process')
  }
  const other = await two.inject({ method: 'GET', url: '/api/v1/senders', remoteAddress: '198.51.100.21', headers: { authorization: `Bearer ${tenant.api.key}` } })
  t.equal(other.statusCode, 200, 'another address is not affected')
  const rows = await database.db.selectFrom('auth_failures').select(['key', 'failures']).execute()
  t.ok(rows.every((r) => r.key === '198.51.100.20'), 'the database holds the address, nothing else')
  t.equal(rows.reduce((sum, r) => sum + r.failures, 0), verified, 'and its failures')
})
