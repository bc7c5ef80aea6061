import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// One vocabulary: the word the door answers for a launch waiting for another attempt ("retrying")
// is the word the API shows and filters by; a value outside a list is a 400 that lists the allowed
// values once.

t.test(`states and refused values on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const setup = await setUpMailbox(app)

  t.test('a bad filter or field lists the allowed values, once', async (t) => {
    const res = await setup.api('GET', '/api/v1/launches?state=bogus')
    t.equal(res.statusCode, 400)
    t.same(res.json().details, [{ field: 'state', message: 'must be one of: pending, retrying, launching, launched, completed, faulted, stopped, failed' }])
    t.equal(res.json().message, 'Invalid querystring: state must be one of: pending, retrying, launching, launched, completed, faulted, stopped, failed')
    const robot = await setup.api('POST', '/api/v1/robots', { name: 'Other', launchMode: 'bogus' })
    t.same(robot.json().details, [{ field: 'launchMode', message: 'must be one of: job, queue' }])
    const missing = await setup.api('POST', '/api/v1/senders', { email: 'x@y.example' })
    t.same(missing.json().details, [{ field: 'fullName', message: 'is required' }], 'other errors are unchanged')
  })

  t.test('a launch waiting for another attempt is "retrying", as the door said', async (t) => {
    const db = database.db
    const message = await db.insertInto('messages').values({ tenant_id: setup.tenantId, mailbox_id: setup.mailboxId, door: 'mime', dedupe_key: '<r@x>', raw_sha256: 'a'.repeat(64), size_bytes: 1, status: 'accepted' }).returning('id').executeTakeFirstOrThrow()
    const launch = await db.insertInto('launches').values({ tenant_id: setup.tenantId, message_id: message.id, plan: '{}', state: 'pending', last_error: 'Orchestrator answered 503', attempts: 1 }).returning('id').executeTakeFirstOrThrow()
    t.match((await setup.api('GET', `/api/v1/launches/${launch.id}`)).json(), { state: 'retrying', lastError: 'Orchestrator answered 503' })
    t.same((await setup.api('GET', '/api/v1/launches?state=retrying')).json().items.map((l: { id: string }) => l.id), [launch.id])
    t.same((await setup.api('GET', '/api/v1/launches?state=pending')).json().items, [])
  })
})
