import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'

t.test('the admin API is rate-limited per key, with Retry-After', async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_ADMIN_RATE_LIMIT: '5' } })
  const { api } = await newTenant(app, 'Busy')
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await api('GET', '/api/v1/senders')).statusCode)
  t.same(statuses, [200, 200, 200, 200, 200, 429])
  const limited = await api('GET', '/api/v1/senders')
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.match(limited.json(), { statusCode: 429, code: 'MAILRUN_ERR_RATE_LIMITED', message: /at most 5 per minute for this key/ })
  const admin = client(app, ADMIN_KEY)
  t.equal((await admin('GET', '/api/v1/tenants')).statusCode, 200, 'another key has its own budget')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'operations endpoints are not limited')
})
