import { createHash } from 'node:crypto'
import t from 'tap'
import { recoverReceived } from '../../src/pipeline/recover-received.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { buildMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

t.test(`on ${testDatabaseKind}, a message stored before a stop is decided and launched once afterwards`, async (t) => {
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  const raw = Buffer.from(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: '<crash@sender.example>' }))
  // As the door leaves it when the process dies right after storing.
  const stored = await db.insertInto('messages').values({
    tenant_id: setup.tenantId,
    mailbox_id: setup.mailboxId,
    door: 'mime',
    dedupe_key: '<crash@sender.example>',
    raw,
    raw_sha256: createHash('sha256').update(raw).digest('hex'),
    size_bytes: raw.length,
    auth_verdict: JSON.stringify({ rawIsOriginal: true, envelopeFrom: null, provider: null }),
    received_at: new Date(Date.now() - 60_000)
  }).returning('id').executeTakeFirstOrThrow()

  const redelivered = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
  t.same(redelivered, { message: stored.id, status: 'duplicate', reason: 'this message was already received' }, 'a provider retry meanwhile is still a duplicate')

  t.equal(await recoverReceived(db, app.receiver, log.logger), 1)
  const row = await db.selectFrom('messages').select(['status', 'raw', 'subject']).where('id', '=', stored.id).executeTakeFirstOrThrow()
  t.same(row, { status: 'accepted', raw: null, subject: 'Monthly Report' })
  t.equal((await db.selectFrom('launches').where('message_id', '=', stored.id).selectAll().execute()).length, 1)
  t.equal(await recoverReceived(db, app.receiver, log.logger), 0, 'a second pass finds nothing to do')
  t.equal((await db.selectFrom('launches').where('message_id', '=', stored.id).selectAll().execute()).length, 1)
})
