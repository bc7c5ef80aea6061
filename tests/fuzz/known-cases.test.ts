import t from 'tap'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// The inputs that answered 500 before: each now gets a 4xx or is stored, and never a 5xx.

t.test(`inputs that once answered 500, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: '127.0.0.0/8,::1/128' } })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off', mailgunSigningKey: 'k' } })
  const admin = client(app, ADMIN_KEY)
  const connection = { kind: 'onprem', authMode: 'token', accessToken: 'a-token', defaultFolder: 'Finance' }

  for (const url of ['http://127.0.0.1%2509:3391/', 'http://%zz/', 'https://[::1', 'http://a%00b/']) {
    const res = await setup.api('PUT', '/api/v1/orchestrator', { ...connection, url })
    t.equal(res.statusCode, 400, `Orchestrator url ${url}`)
    t.match(res.json(), { details: [{ field: 'url', message: /is not a valid URL/ }] })
  }
  for (const door of ['mailgun', 'sendgrid']) {
    const res = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/${door}`, headers: { 'content-type': 'multipart/form-data' }, payload: 'x' })
    t.equal(res.statusCode, 400, `${door} door, multipart without a boundary`)
    t.match(res.json().message, /malformed multipart\/form-data/)
    const empty = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/${door}`, headers: { 'content-type': 'multipart/form-data; boundary=' }, payload: 'x' })
    t.ok(empty.statusCode < 500, `${door} door, an empty boundary: ${empty.statusCode}`)
  }
  const texts: Array<[string, () => Promise<{ statusCode: number }>]> = [
    ['tenant name with NUL', async () => await admin('POST', '/api/v1/tenants', { name: 'Acme\u0000Corp', maxMailboxes: 1 })],
    ['robot name with a lone surrogate', async () => await setup.api('POST', '/api/v1/robots', { name: 'Rob\uD800ot' })],
    ['trustedAuthservId with NUL', async () => await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { trustedAuthservId: 'mx\u0000.acme.example' })],
    ['smtp fromName with NUL', async () => await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { smtp: { host: '192.0.2.25', port: 587, user: 'u', password: 'p', fromName: 'Robots\u0000' } })]
  ]
  for (const [name, send] of texts) {
    const res = await send()
    t.ok(res.statusCode < 500, `${name}: ${res.statusCode}`)
  }
})
