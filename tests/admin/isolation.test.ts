import { createHash, randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'

const tables = ['mailboxes', 'senders', 'robots', 'robot_senders', 'orchestrator_connections', 'messages', 'launches', 'api_keys'] as const

t.test(`on ${testDatabaseKind}, a tenant key reaches only its own tenant: another tenant's ids answer 404 and change nothing`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const a = await newTenant(app, 'Tenant A', 3, ['a.example'])
  const b = await newTenant(app, 'Tenant B', 3, ['b.example'])

  const sender = (await a.api('POST', '/api/v1/senders', { fullName: 'Alice', email: 'alice@a.example' })).json()
  const robot = (await a.api('POST', '/api/v1/robots', { name: 'Payroll', senderIds: [sender.id] })).json()
  const mailbox = (await a.api('POST', '/api/v1/mailboxes', { address: 'robots@a.example', mailgunSigningKey: 'a-signing-key' })).json()
  t.equal((await a.api('PUT', '/api/v1/orchestrator', { kind: 'onprem', url: 'https://orchestrator.a.example', authMode: 'token', accessToken: 'a-token' })).statusCode, 200)
  const message = await db.insertInto('messages').values({
    tenant_id: a.id, mailbox_id: mailbox.id, door: 'mime', dedupe_key: '<m1@a.example>', raw_sha256: createHash('sha256').update('m1').digest('hex'), size_bytes: 100, status: 'accepted'
  }).returning('id').executeTakeFirstOrThrow()
  const launch = await db.insertInto('launches').values({ tenant_id: a.id, message_id: message.id, robot_id: robot.id, sender_id: sender.id, plan: JSON.stringify({ functions: [] }) })
    .returning('id').executeTakeFirstOrThrow()

  const snapshot = async (): Promise<string> => {
    const rows: Record<string, unknown[]> = {}
    for (const table of tables) rows[table] = await db.selectFrom(table).selectAll().where('tenant_id', '=', a.id).orderBy(table === 'robot_senders' ? 'robot_id' : 'id').execute()
    return JSON.stringify(rows)
  }
  const before = await snapshot()

  const operations: Array<[string, 'GET' | 'PATCH' | 'DELETE' | 'POST', string, unknown?]> = [
    ['read mailbox', 'GET', `/api/v1/mailboxes/${mailbox.id}`],
    ['change mailbox', 'PATCH', `/api/v1/mailboxes/${mailbox.id}`, { active: false }],
    ['rotate mailbox token', 'POST', `/api/v1/mailboxes/${mailbox.id}/rotate-token`],
    ['delete mailbox', 'DELETE', `/api/v1/mailboxes/${mailbox.id}`],
    ['read sender', 'GET', `/api/v1/senders/${sender.id}`],
    ['change sender', 'PATCH', `/api/v1/senders/${sender.id}`, { active: false }],
    ['delete sender', 'DELETE', `/api/v1/senders/${sender.id}`],
    ['read robot', 'GET', `/api/v1/robots/${robot.id}`],
    ['change robot', 'PATCH', `/api/v1/robots/${robot.id}`, { description: 'taken over' }],
    ['delete robot', 'DELETE', `/api/v1/robots/${robot.id}`],
    ['read message', 'GET', `/api/v1/messages/${message.id}`],
    ['read launch', 'GET', `/api/v1/launches/${launch.id}`]
  ]
  for (const [what, method, url, body] of operations) {
    const theirs = await b.api(method, url, body)
    const missing = await b.api(method, url.replace(/[0-9a-f-]{36}/, randomUUID()), body)
    t.equal(theirs.statusCode, 404, `${what}: 404`)
    t.equal(theirs.json().message.replace(/[0-9a-f-]{36}/, 'ID'), missing.json().message.replace(/[0-9a-f-]{36}/, 'ID'), `${what}: the same answer as a missing id`)
  }

  for (const list of ['mailboxes', 'senders', 'robots', 'messages', 'launches']) {
    t.same((await b.api('GET', `/api/v1/${list}`)).json().items, [], `B lists none of A's ${list}`)
  }
  for (const filter of [`robotId=${robot.id}`, `senderId=${sender.id}`]) {
    t.same((await b.api('GET', `/api/v1/launches?${filter}`)).json().items, [], `filtering by A's ${filter.split('=')[0]} finds nothing`)
  }
  t.equal((await b.api('GET', '/api/v1/orchestrator')).statusCode, 404, "B does not see A's Orchestrator connection")
  t.equal((await b.api('POST', '/api/v1/orchestrator/test')).statusCode, 404)
  const foreignSender = await b.api('POST', '/api/v1/robots', { name: 'Thief', senderIds: [sender.id] })
  t.equal(foreignSender.statusCode, 400, "B cannot put A's sender on its robot")
  const pageOfA = (await a.api('GET', '/api/v1/senders?limit=1')).json()
  const probe = await b.api('GET', `/api/v1/senders?cursor=${encodeURIComponent(Buffer.from(sender.id).toString('base64url'))}`)
  t.equal(probe.statusCode, 400, "A's row id as B's cursor is refused, so it cannot position B's list")
  t.match(probe.json(), { code: 'MAILRUN_ERR_BAD_REQUEST', message: /^invalid cursor/ })
  t.ok(pageOfA.items.length === 1)

  t.equal(await snapshot(), before, "none of A's rows changed")
})

t.test(`on ${testDatabaseKind}, a cursor works only for the tenant and the list it came from`, async (t) => {
  const { app } = await buildTestApp(t)
  const a = await newTenant(app, 'Tenant A', 3, ['a.example'])
  const b = await newTenant(app, 'Tenant B', 3, ['b.example'])
  for (const who of [a, b]) {
    for (const n of [1, 2, 3]) t.equal((await who.api('POST', '/api/v1/senders', { fullName: `S${n}`, email: `s${n}@x.example` })).statusCode, 201)
    t.equal((await who.api('POST', '/api/v1/robots', { name: 'One', allowAllSenders: true })).statusCode, 201)
    t.equal((await who.api('POST', '/api/v1/robots', { name: 'Two', allowAllSenders: true })).statusCode, 201)
  }
  const first = (await a.api('GET', '/api/v1/senders?limit=1')).json()
  t.type(first.nextCursor, 'string')
  t.notMatch(first.nextCursor, new RegExp(Buffer.from(first.items[0].id).toString('base64url')), 'the cursor does not show the row id')
  t.equal((await a.api('GET', `/api/v1/senders?limit=1&cursor=${first.nextCursor}`)).statusCode, 200, 'it pages its own list')
  for (const [who, url, why] of [[b, '/api/v1/senders', "another tenant's"], [a, '/api/v1/robots', "another list's"], [a, '/api/v1/launches', "another list's"]] as const) {
    const res = await who.api('GET', `${url}?cursor=${first.nextCursor}`)
    t.equal(res.statusCode, 400, `${why} cursor is refused at ${url}`)
    t.match(res.json().message, /^invalid cursor/)
  }
  const middle = Math.floor(first.nextCursor.length / 2)
  const tampered = first.nextCursor.slice(0, middle) + (first.nextCursor[middle] === 'A' ? 'B' : 'A') + first.nextCursor.slice(middle + 1)
  t.equal((await a.api('GET', `/api/v1/senders?cursor=${tampered}`)).statusCode, 400, 'a changed cursor is refused')
})
