import t from 'tap'
import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'
import type { AddressInfo } from 'node:net'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// The outbox sends a pass's replies side by side (different messages) while one message's replies
// keep the order they were written in, and records them as sent.
t.test(`a pass's replies go side by side, one thread's in order, on ${testDatabaseKind}`, async (t) => {
  let open = 0
  let mostAtOnce = 0
  const delivered: Array<{ subject: string, inReplyTo: string }> = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData (stream, _session, callback) {
      open++
      mostAtOnce = Math.max(mostAtOnce, open)
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        // A slow server: a transaction takes a while, so sends one after another would never overlap.
        setTimeout(() => {
          simpleParser(Buffer.concat(chunks)).then((mail) => {
            delivered.push({ subject: mail.subject ?? '', inReplyTo: String(mail.inReplyTo ?? '') })
            open--
            callback()
          }, callback)
        }, 150)
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  const port = (server.server.address() as AddressInfo).port

  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off', smtp: { host: '127.0.0.1', port, tls: false } } })
  const rows = []
  for (const thread of ['a', 'b', 'c']) {
    const message = await db.insertInto('messages').values({ tenant_id: setup.tenantId, mailbox_id: setup.mailboxId, door: 'mime', dedupe_key: `<${thread}@sender.example>`, raw_sha256: thread, size_bytes: 1, status: 'accepted' }).returning('id').executeTakeFirstOrThrow()
    for (const [n, kind] of ['launched', 'finished'].entries()) {
      rows.push({
        tenant_id: setup.tenantId,
        mailbox_id: setup.mailboxId,
        message_id: message.id,
        kind,
        recipient: 'anna@sender.example',
        subject: `${thread} ${kind}`,
        text_body: `${thread} ${kind}`,
        headers: JSON.stringify({ inReplyTo: `<${thread}@sender.example>`, references: `<${thread}@sender.example>` }),
        // Written in this order: launched, then finished, for each message.
        created_at: new Date(Date.now() - 10_000 + n * 1000)
      })
    }
  }
  await db.insertInto('notifications').values(rows).execute()

  t.equal(await app.mailer.sendDue(), 6, 'every reply sent')
  t.ok(mostAtOnce >= 2, `different messages' replies went side by side (at most ${mostAtOnce} at once)`)
  for (const thread of ['a', 'b', 'c']) {
    t.same(delivered.filter((d) => d.inReplyTo === `<${thread}@sender.example>`).map((d) => d.subject), [`${thread} launched`, `${thread} finished`], `message ${thread}: launched, then finished`)
  }
  const states = await db.selectFrom('notifications').select(['state', 'attempts', 'sent_at']).execute()
  t.same(states.map((s) => [s.state, s.attempts, s.sent_at !== null]), Array(6).fill(['sent', 1, true]), 'each recorded as sent, once')
  t.equal(await app.mailer.sendDue(), 0, 'nothing is sent twice')
})
