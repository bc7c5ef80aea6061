import t from 'tap'
import { loadConfig, ConfigError } from '../../src/config.js'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'

// Failed credentials are limited per client address before any key is looked at, and the client
// address is only taken from X-Forwarded-For when the operator says which proxies to believe.

t.test(`wrong keys and guessed ingress tokens are slowed down per address, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_AUTH_FAILURE_LIMIT: '20', MAILRUN_ADMIN_RATE_LIMIT: '100000' } })
  const tenant = await newTenant(app, 'Acme')

  t.test('650 wrong-key requests: 20 answered 401, the rest 429 with Retry-After', async (t) => {
    const statuses = new Map<number, number>()
    let retryAfter: string | undefined
    for (let i = 0; i < 650; i++) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/senders', remoteAddress: '198.51.100.7', headers: { authorization: `Bearer mrt_guess-${i}`, 'x-forwarded-for': `203.0.113.${i % 250}` } })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string
    }
    t.same(Object.fromEntries(statuses), { 401: 20, 429: 630 }, 'X-Forwarded-For did not give each guess a bucket of its own')
    t.match(retryAfter, /^\d+$/)
    const blocked = await app.inject({ method: 'GET', url: '/api/v1/senders', remoteAddress: '198.51.100.7', headers: { authorization: `Bearer ${tenant.api.key}` } })
    t.equal(blocked.statusCode, 429, 'even a right key waits, so a right guess cannot stand out')
    t.match(blocked.json(), { code: 'MAILRUN_ERR_RATE_LIMITED', message: /Too many failed attempts from this address: retry after \d+ s/ })
    const elsewhere = await app.inject({ method: 'GET', url: '/api/v1/senders', remoteAddress: '198.51.100.8', headers: { authorization: `Bearer ${tenant.api.key}` } })
    t.equal(elsewhere.statusCode, 200, 'another address is not affected')
  })

  t.test('requests without a key count too', async (t) => {
    const statuses: number[] = []
    for (let i = 0; i < 22; i++) statuses.push((await app.inject({ method: 'GET', url: '/api/v1/tenants', remoteAddress: '198.51.100.9' })).statusCode)
    t.same(statuses.slice(19), [401, 429, 429])
  })

  t.test('guessing ingress tokens at the doors is slowed the same way', async (t) => {
    const statuses = new Map<number, number>()
    for (let i = 0; i < 40; i++) {
      const door = ['mime', 'mailgun', 'sendgrid'][i % 3] ?? 'mime'
      const res = await app.inject({ method: 'POST', url: `/inbound/guess-${i}/${door}`, remoteAddress: '198.51.100.10', headers: { 'content-type': 'message/rfc822' }, payload: 'x' })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    }
    t.equal(statuses.get(429), 20, 'past 20 failures every guess answers 429')
    const admin = await app.inject({ method: 'GET', url: '/api/v1/tenants', remoteAddress: '198.51.100.11', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    t.equal(admin.statusCode, 200)
  })
})

t.test(`with MAILRUN_TRUST_PROXY the address comes from the trusted proxy's X-Forwarded-For, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_AUTH_FAILURE_LIMIT: '3', MAILRUN_TRUST_PROXY: '10.0.0.0/8' } })
  const guess = async (client: string, proxy = '10.1.2.3') => (await app.inject({ method: 'GET', url: '/api/v1/tenants', remoteAddress: proxy, headers: { authorization: 'Bearer nope', 'x-forwarded-for': client } })).statusCode
  const first = [await guess('192.0.2.1'), await guess('192.0.2.1'), await guess('192.0.2.1'), await guess('192.0.2.1')]
  t.same(first, [401, 401, 401, 429])
  t.equal(await guess('192.0.2.2'), 401, 'another client behind the same proxy has its own allowance')
  const untrusted = [await guess('192.0.2.50', '198.51.100.1'), await guess('192.0.2.51', '198.51.100.1'), await guess('192.0.2.52', '198.51.100.1'), await guess('192.0.2.53', '198.51.100.1')]
  t.same(untrusted, [401, 401, 401, 429], 'a client not behind a trusted proxy cannot choose its address')
})

t.test('MAILRUN_TRUST_PROXY takes false, a hop count, or proxy addresses', async (t) => {
  t.equal(loadConfig({}).trustProxy, false, 'off by default')
  t.equal(loadConfig({ MAILRUN_TRUST_PROXY: 'false' }).trustProxy, false)
  t.equal(loadConfig({ MAILRUN_TRUST_PROXY: '2' }).trustProxy, 2)
  t.equal(loadConfig({ MAILRUN_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy, '10.0.0.0/8,127.0.0.1,::1')
  t.throws(() => loadConfig({ MAILRUN_TRUST_PROXY: 'everyone' }), ConfigError)
  t.throws(() => loadConfig({ MAILRUN_TRUST_PROXY: '10.0.0.0/abc' }), ConfigError)
})
