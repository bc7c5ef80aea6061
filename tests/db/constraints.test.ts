import { createHash } from 'node:crypto'
import t from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { insertMailbox, insertTenant } from '../support/fixtures.js'

const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

function message (tenantId: string, mailboxId: string, dedupeKey: string) {
  return { tenant_id: tenantId, mailbox_id: mailboxId, door: 'mime' as const, dedupe_key: dedupeKey, raw_sha256: sha(dedupeKey), size_bytes: 10 }
}

t.test(`on ${testDatabaseKind}, the database itself keeps the rules`, async (t) => {
  const { db } = await createTestDatabase(t)
  const tenantA = await insertTenant(db, 'A')
  const tenantB = await insertTenant(db, 'B')
  const mailboxA = await insertMailbox(db, tenantA)
  const mailboxB = await insertMailbox(db, tenantB)

  t.test('a second message with the same mailbox and dedupe key is refused', async (t) => {
    await db.insertInto('messages').values(message(tenantA, mailboxA, '<one@example.com>')).execute()
    await t.rejects(db.insertInto('messages').values(message(tenantA, mailboxA, '<one@example.com>')).execute(), { code: '23505' })
    const inserted = await db.insertInto('messages').values(message(tenantA, mailboxA, '<one@example.com>'))
      .onConflict((oc) => oc.columns(['mailbox_id', 'dedupe_key']).doNothing()).returning('id').execute()
    t.same(inserted, [], 'ON CONFLICT DO NOTHING answers no row for the duplicate')
    const count = await db.selectFrom('messages').where('mailbox_id', '=', mailboxA).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    t.equal(Number(count.n), 1)
  })

  t.test('the same dedupe key in another mailbox is a different message', async (t) => {
    await db.insertInto('messages').values(message(tenantB, mailboxB, '<one@example.com>')).execute()
    t.pass('accepted')
  })

  t.test('a message cannot claim a mailbox of another tenant', async (t) => {
    await t.rejects(db.insertInto('messages').values(message(tenantB, mailboxA, '<two@example.com>')).execute(), { code: '23503' })
  })

  t.test("a robot's allow-list cannot name another tenant's sender", async (t) => {
    const robot = await db.insertInto('robots').values({ tenant_id: tenantA, name: 'Report', name_key: 'report', process_name: 'Report' }).returning('id').executeTakeFirstOrThrow()
    const senderB = await db.insertInto('senders').values({ tenant_id: tenantB, full_name: 'Bob', email: 'bob@b.example' }).returning('id').executeTakeFirstOrThrow()
    await t.rejects(db.insertInto('robot_senders').values({ tenant_id: tenantA, robot_id: robot.id, sender_id: senderB.id }).execute(), { code: '23503' })
    await t.rejects(db.insertInto('robot_senders').values({ tenant_id: tenantB, robot_id: robot.id, sender_id: senderB.id }).execute(), { code: '23503' })
  })

  t.test('sender emails are unique per tenant regardless of case', async (t) => {
    await db.insertInto('senders').values({ tenant_id: tenantA, full_name: 'Ann', email: 'ann@a.example' }).execute()
    await t.rejects(db.insertInto('senders').values({ tenant_id: tenantA, full_name: 'Ann Again', email: 'ANN@A.example' }).execute(), { code: '23505' })
    await db.insertInto('senders').values({ tenant_id: tenantB, full_name: 'Ann', email: 'ann@a.example' }).execute()
  })

  t.test('state columns accept only known states', async (t) => {
    const msg = await db.insertInto('messages').values(message(tenantA, mailboxA, '<state@example.com>')).returning('id').executeTakeFirstOrThrow()
    await t.rejects(db.insertInto('launches').values({ tenant_id: tenantA, message_id: msg.id, plan: '{}', state: 'exploded' as never }).execute(), { code: '23514' })
    await t.rejects(db.updateTable('messages').set({ status: 'lost' as never }).where('id', '=', msg.id).execute(), { code: '23514' })
  })

  t.test('an admin key has no tenant and a tenant key must have one', async (t) => {
    await t.rejects(db.insertInto('api_keys').values({ scope: 'admin', tenant_id: tenantA, prefix: 'x', key_hash: sha('k1') }).execute(), { code: '23514' })
    await t.rejects(db.insertInto('api_keys').values({ scope: 'tenant', tenant_id: null, prefix: 'x', key_hash: sha('k2') }).execute(), { code: '23514' })
  })

  t.test('a queue robot needs a queue name', async (t) => {
    await t.rejects(db.insertInto('robots').values({ tenant_id: tenantA, name: 'Q', name_key: 'q', process_name: 'Q', launch_mode: 'queue' }).execute(), { code: '23514' })
  })

  t.test('mailbox addresses are unique across the instance', async (t) => {
    await insertMailbox(db, tenantA, 'shared@example.com')
    await t.rejects(insertMailbox(db, tenantB, 'Shared@Example.com'), { code: '23505' })
  })
})
