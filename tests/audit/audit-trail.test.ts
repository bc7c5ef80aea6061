import fc from 'fast-check'
import t from 'tap'
import { auditEntry } from '../../src/audit/audit-entry.js'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'

// The audit trail (issue #28, item 16): who changed what, when — through the API or the console —
// with field names and never values.

t.test('routes are read into resource, action and id', async (t) => {
  const read = (method: string, route: string, params: Record<string, string> = {}, body: unknown = {}, createdId: string | null = null) =>
    auditEntry({ method, route, params, body, status: 200, createdId })
  t.match(read('POST', '/api/v1/mailboxes', {}, { address: 'x', imap: {} }, 'm1'), { via: 'api', action: 'create', resource: 'mailboxes', resourceId: 'm1', fields: ['address', 'imap'] })
  t.match(read('PATCH', '/api/v1/senders/:id', { id: 's1' }, { active: false }), { action: 'update', resource: 'senders', resourceId: 's1', fields: ['active'] })
  t.match(read('POST', '/api/v1/mailboxes/:id/rotate-token', { id: 'm1' }), { action: 'rotate-token', resource: 'mailboxes', resourceId: 'm1' })
  t.match(read('POST', '/api/v1/senders/:id/erase', { id: 's1' }), { action: 'erase', resource: 'senders', resourceId: 's1' })
  t.match(read('POST', '/api/v1/tenants/:id/api-keys', { id: 't1' }, { name: 'n' }, 'k1'), { action: 'create', resource: 'api-keys', resourceId: 'k1' })
  t.match(read('DELETE', '/api/v1/tenants/:id/api-keys/:keyId', { id: 't1', keyId: 'k1' }), { action: 'delete', resource: 'api-keys', resourceId: 'k1' })
  t.match(read('PUT', '/api/v1/orchestrator', {}, { kind: 'cloud', clientSecret: 's' }), { action: 'set', resource: 'orchestrator', fields: ['clientSecret', 'kind'] })
  t.match(read('POST', '/console/orchestrator', {}, { _csrf: 'c', url: 'u' }), { via: 'console', action: 'set', resource: 'orchestrator', fields: ['url'] })
  t.match(read('POST', '/console/senders/:id', { id: 's1' }, { _csrf: 'c', fullName: 'F' }), { via: 'console', action: 'update', resource: 'senders', resourceId: 's1', fields: ['fullName'] })
  t.match(read('POST', '/console/senders/:id/erase', { id: 's1' }, { _csrf: 'c', confirm: 'a@b.example' }), { action: 'erase', fields: [] })
  t.match(read('POST', '/console/senders/import', {}, { csv: '…' }), { action: 'import', resource: 'senders' })
  t.match(read('POST', '/console/admin/tenants/:id/keys/:keyId/revoke', { id: 't1', keyId: 'k1' }), { action: 'revoke', resource: 'keys', resourceId: 'k1' })
  t.match(read('POST', '/console/team/keys/:id/revoke', { id: 'k1' }), { action: 'revoke', resource: 'keys', resourceId: 'k1' })
  t.match(read('POST', '/api/v1/test-sends', {}, { dryRun: false }), { action: 'create', resource: 'test-sends' })
  for (const [method, route, body] of [
    ['GET', '/api/v1/mailboxes', {}], ['POST', '/api/v1/mailboxes/:id/test', {}], ['POST', '/api/v1/orchestrator/test', {}],
    ['POST', '/console/sign-in', { password: 'p' }], ['POST', '/console/sign-out', {}], ['POST', '/console/set-password/:token', { password: 'p' }],
    ['POST', '/api/v1/test-sends', { dryRun: true }], ['POST', '/console/test-send', { mode: 'check' }], ['POST', '/inbound/:token/mime', {}]
  ] as const) t.equal(read(method, route, {}, body), null, `${method} ${route} changes nothing an admin manages`)
  t.equal(auditEntry({ method: 'PATCH', route: '/api/v1/senders/:id', params: { id: 's' }, body: { active: 1 }, status: 400, createdId: null }), null, 'a refused change is not a change')

  // Whatever a body holds, no value reaches the entry: only its top-level names.
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, fc.string().map((text) => `SECRET-${text}`), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('node'), { maxKeys: 3 }))
  })).node
  fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,11}$/), value, { maxKeys: 8 }), (body) => {
    const entry = auditEntry({ method: 'PATCH', route: '/api/v1/mailboxes/:id', params: { id: 'm' }, body, status: 200, createdId: null })
    return !JSON.stringify(entry).includes('SECRET-') && JSON.stringify(entry?.fields) === JSON.stringify(Object.keys(body).filter((k) => k !== 'confirm' && k !== 'mode' && k !== 'next').sort())
  }), { numRuns: 500 })
})

t.test(`the audit trail through the API and the console on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const admin = client(app, ADMIN_KEY)
  const acme = await newTenant(app, 'Acme', 3, ['acme.example'])
  const globex = await newTenant(app, 'Globex', 3, ['globex.example'])
  const secrets = ['imap-secret-password-991', 'mailgun-signing-key-5531', 'console-user-password-77', 'orchestrator-client-secret-13']

  const mailbox = await acme.api('POST', '/api/v1/mailboxes', { address: 'robots@acme.example', mailgunSigningKey: secrets[1], imap: { host: '192.0.2.10', user: 'robots', password: secrets[0] } })
  t.equal(mailbox.statusCode, 201)
  const sender = (await acme.api('POST', '/api/v1/senders', { fullName: 'Anna', email: 'anna@sender.example' })).json()
  t.equal((await acme.api('PATCH', `/api/v1/senders/${String(sender.id)}`, { active: false })).statusCode, 200)
  t.equal((await acme.api('PATCH', `/api/v1/senders/${String(sender.id)}`, { active: 'maybe' })).statusCode, 400)
  t.equal((await acme.api('PUT', '/api/v1/orchestrator', { kind: 'cloud', url: 'https://cloud.uipath.com', organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'c', clientSecret: secrets[3], defaultFolder: 'Finance' })).statusCode, 200)
  t.equal((await acme.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: secrets[2] })).statusCode, 201)
  t.equal((await admin('PATCH', `/api/v1/tenants/${acme.id}`, { maxMailboxes: 4 })).statusCode, 200)
  t.equal((await globex.api('POST', '/api/v1/senders', { fullName: 'Gina', email: 'gina@globex.example' })).statusCode, 201)
  await acme.api('GET', '/api/v1/senders')

  const trail = await acme.api('GET', '/api/v1/audit')
  t.equal(trail.statusCode, 200)
  const items = trail.json().items as Array<{ action: string, resource: string, resourceId: string | null, fields: string[], actor: { kind: string, label: string }, via: string }>
  t.match(items.map((e) => `${e.action} ${e.resource}`), [
    'update tenants', 'create users', 'set orchestrator', 'update senders', 'create senders', 'create mailboxes', 'create api-keys', 'create tenants'
  ], "newest first: the tenant's own changes and the instance admin's changes to it; no reads, no refused change, nothing of Globex")
  t.match(items[5], { resourceId: mailbox.json().id, fields: ['active', 'address', 'imap', 'mailgunSigningKey', 'senderAuth'], actor: { kind: 'api_key', label: /^API key mrt_[\w-]+ \(tests\)$/ }, via: 'api' })
  t.match(items[0], { actor: { kind: 'instance_admin' }, fields: ['maxMailboxes'] })
  const stored = JSON.stringify(await db.selectFrom('audit_events').selectAll().execute())
  for (const secret of secrets) t.notOk(stored.includes(secret), 'no secret is recorded')

  t.equal((await acme.api('GET', `/api/v1/audit?tenantId=${globex.id}`)).statusCode, 403, "a tenant key cannot ask for another tenant's")
  const all = (await admin('GET', '/api/v1/audit?limit=100')).json().items as Array<{ tenantId: string }>
  t.ok(all.some((e) => e.tenantId === globex.id) && all.some((e) => e.tenantId === acme.id), 'the instance admin sees every tenant')
  t.ok(((await admin('GET', `/api/v1/audit?tenantId=${globex.id}`)).json().items as Array<{ tenantId: string }>).every((e) => e.tenantId === globex.id))
  const firstPage = (await acme.api('GET', '/api/v1/audit?limit=3')).json()
  const secondPage = (await acme.api('GET', `/api/v1/audit?limit=3&cursor=${String(firstPage.nextCursor)}`)).json()
  t.same([...firstPage.items, ...secondPage.items].map((e: { id: string }) => e.id), items.slice(0, 6).map((e) => (e as unknown as { id: string }).id), 'paged like every list')

  t.test('console changes are recorded with the user, and the Team page shows them in their language', async (t) => {
    const { get, post, signIn } = consoleClient(app)
    const { jar } = await signIn('ada@acme.example', secrets[2] ?? '')
    const page = await get(jar, `/console/senders/${String(sender.id)}`)
    t.equal((await post(jar, `/console/senders/${String(sender.id)}`, { _csrf: csrfOf(page.body), fullName: 'Anna Petrova', email: 'anna@sender.example', active: 'on' })).statusCode, 303)
    const [latest] = (await acme.api('GET', '/api/v1/audit?limit=1')).json().items
    t.match(latest, { via: 'console', action: 'update', resource: 'senders', resourceId: sender.id, actor: { kind: 'console_user', label: 'ada@acme.example' }, fields: ['active', 'email', 'fullName'] })
    const team = await get(jar, '/console/team')
    t.match(team.body, /Recent changes/)
    t.match(team.body, /changed · sender/)
    const ada = (await acme.api('GET', '/api/v1/users')).json().items.find((u: { email: string }) => u.email === 'ada@acme.example')
    await acme.api('PATCH', `/api/v1/users/${String(ada.id)}`, { locale: 'ru' })
    const { jar: russian } = await signIn('ada@acme.example', secrets[2] ?? '')
    const ru = await get(russian, '/console/team')
    t.match(ru.body, /Последние изменения/)
    t.match(ru.body, /изменён\(а\) · отправитель/)
    t.match(ru.body, /Администратор экземпляра/)
  })
})
