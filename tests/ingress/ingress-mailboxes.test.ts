import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { buildMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'
import { ADMIN_KEY, client } from '../support/admin.js'
import { newIngressToken } from '../../src/admin/ingress-token.js'
import { inProcessChangeFeed } from '../../src/db/change-feed.js'
import { createIngressMailboxes } from '../../src/ingress/ingress-mailboxes.js'
import { KEPT_ROWS_MS } from '../../src/db/kept-rows.js'

// The doors keep the mailbox behind an ingress token for a few seconds (one statement less per
// message); every change made through mailrun reaches them at once.
t.test(`a change to a mailbox reaches the doors at once, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t)
  const post = async (token: string, subject = 'Monthly Report') => await app.inject({
    method: 'POST',
    url: `/inbound/${token}/mime`,
    headers: { 'content-type': 'message/rfc822' },
    payload: buildMessage({ from: 'anna@sender.example', subject, body: 'period = 2026-10' })
  })

  t.test('deactivated: the next message is ignored', async (t) => {
    const setup = await setUpMailbox(app, { tenant: 'Quiet', address: 'robots@quiet.example', mailbox: { senderAuth: 'off' } })
    const first = (await post(setup.ingressToken)).json()
    t.equal(first.status, 'accepted', `the token is in use (and its mailbox kept): ${JSON.stringify(first)}`)
    t.equal((await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { active: false })).statusCode, 200)
    t.match((await post(setup.ingressToken)).json(), { status: 'ignored', reason: 'the mailbox is inactive' })
  })

  t.test('a rotated token: the old one stops at once, the new one works', async (t) => {
    const setup = await setUpMailbox(app, { tenant: 'Rotate', address: 'robots@rotate.example', mailbox: { senderAuth: 'off' } })
    t.equal((await post(setup.ingressToken)).statusCode, 200)
    const rotated = (await setup.api('POST', `/api/v1/mailboxes/${setup.mailboxId}/rotate-token`)).json()
    const old = await post(setup.ingressToken)
    t.equal(old.statusCode, 404, 'the old token')
    t.equal((await post(rotated.ingressToken)).json().status, 'accepted', 'the new token')
  })

  t.test('a deleted tenant: its tokens stop at once', async (t) => {
    const setup = await setUpMailbox(app, { tenant: 'Gone', address: 'robots@gone.example', mailbox: { senderAuth: 'off' } })
    t.equal((await post(setup.ingressToken)).statusCode, 200)
    t.equal((await client(app, ADMIN_KEY)('DELETE', `/api/v1/tenants/${setup.tenantId}`)).statusCode, 204)
    t.equal((await post(setup.ingressToken)).statusCode, 404)
  })
})

t.test(`the kept mailbox: asked again after its few seconds, or at once after an announcement, on ${testDatabaseKind}`, async (t) => {
  const database = await createTestDatabase(t)
  const db = database.db
  const changes = inProcessChangeFeed()
  let clock = 1_000_000
  const mailboxes = await createIngressMailboxes(db, changes, () => clock)
  t.teardown(mailboxes.close)
  const tenant = await db.insertInto('tenants').values({ name: 'Kept', max_mailboxes: 1 }).returning('id').executeTakeFirstOrThrow()
  const { token, hash } = newIngressToken()
  const row = await db.insertInto('mailboxes').values({ tenant_id: tenant.id, address: 'robots@kept.example', ingress_token_hash: hash }).returning('id').executeTakeFirstOrThrow()
  const setActive = async (active: boolean) => { await db.updateTable('mailboxes').set({ active }).where('id', '=', row.id).execute() }

  t.match(await mailboxes.find(token), { id: row.id, tenantId: tenant.id, active: true })
  await setActive(false)
  t.equal((await mailboxes.find(token))?.active, true, 'changed behind mailrun\'s back, unannounced: the kept row is used')
  clock += KEPT_ROWS_MS
  t.equal((await mailboxes.find(token))?.active, false, 'after its few seconds it is read again')
  await setActive(true)
  await changes.announce('mailbox', row.id)
  t.equal((await mailboxes.find(token))?.active, true, 'an announced change is read at once')

  // A look-up under way when a change is announced does not keep what it read.
  await changes.announce('mailbox', row.id)
  const reading = mailboxes.find(token)
  await changes.announce('mailbox', row.id)
  t.equal((await reading)?.active, true)
  await setActive(false)
  t.equal((await mailboxes.find(token))?.active, false, 'read again: the racing look-up was not kept')

  t.equal(await mailboxes.find('not-a-token'), null, 'an unknown token opens nothing')
})
