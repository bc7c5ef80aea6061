import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { buildMessage } from '../support/mail.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher } from '../support/smtp.js'

t.test(`who never gets a reply, and the limits, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  const smtp = await startSmtpCatcher()
  t.teardown(async () => { await sim.close(); await smtp.close() })
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_REPLY_LIMIT_PER_HOUR: '3' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim, {}, { smtp: { host: '127.0.0.1', port: smtp.port, tls: false } })
  const notReplied = async (messageId: string) => {
    const message = await db.selectFrom('messages').select('id').where('dedupe_key', '=', messageId).executeTakeFirstOrThrow()
    return await db.selectFrom('notifications').select(['state', 'last_error', 'recipient']).where('message_id', '=', message.id).execute()
  }

  const silent: Array<[string, Parameters<typeof setup.send>[1], RegExp]> = [
    ['an auto-reply', { headers: { 'Auto-Submitted': 'auto-replied' } }, /^not replied: automatic message \(Auto-Submitted: auto-replied\)$/],
    ['list mail', { headers: { 'List-Unsubscribe': '<mailto:leave@lists.example>' } }, /^not replied: mailing-list message/],
    ['a bounce from MAILER-DAEMON', { from: 'MAILER-DAEMON@mx.sender.example' }, /^not replied: bounce \(from MAILER-DAEMON or postmaster\)$/],
    ['an unknown sender', { from: 'stranger@elsewhere.example' }, /^not replied: unknown sender$/],
    ['a sender who asked for no automatic answers', { headers: { 'X-Auto-Response-Suppress': 'All' } }, /^not replied: the sender asked for no automatic answers \(X-Auto-Response-Suppress: All\)$/]
  ]
  for (const [name, options, why] of silent) {
    t.test(`${name} gets no reply, and the record says why`, async (t) => {
      const id = `<silent-${name.replace(/\W+/g, '-')}@sender.example>`
      await setup.send('period = 1\nBuildReport', { ...options, messageId: id })
      t.match(await notReplied(id), [{ state: 'suppressed', last_error: why }])
    })
  }

  t.test('mailrun never answers one of its own mailboxes', async (t) => {
    t.equal((await setup.api('POST', '/api/v1/senders', { fullName: 'Loop', email: 'robots@acme.example' })).statusCode, 201)
    await setup.send('', { subject: 'help', from: 'robots@acme.example', messageId: '<own@acme.example>' })
    t.match(await notReplied('<own@acme.example>'), [{ state: 'suppressed', last_error: 'not replied: robots@acme.example is a mailrun mailbox' }])
  })

  t.test('past MAILRUN_REPLY_LIMIT_PER_HOUR, replies are recorded, not sent', async (t) => {
    const before = smtp.received.length
    for (let i = 0; i < 5; i++) await setup.send('', { subject: 'help', messageId: `<limit-${i}@sender.example>` })
    await eventually(async () => smtp.received.length >= before + 3)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const sent = await db.selectFrom('notifications').select(['state', 'last_error']).where('recipient', '=', 'anna@sender.example').where('state', 'in', ['pending', 'sent']).execute()
    t.equal(sent.length, 3, 'three replies in the hour')
    t.equal(smtp.received.length, before + 3)
    const suppressed = await notReplied('<limit-4@sender.example>')
    t.match(suppressed, [{ state: 'suppressed', last_error: /^not replied: more than 3 replies to anna@sender\.example in the last hour \(MAILRUN_REPLY_LIMIT_PER_HOUR\)$/ }])
  })
})

t.test(`an SMTP outage delays replies; each is delivered once when it is back, even across a restart, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  const smtp = await startSmtpCatcher()
  t.teardown(async () => { await sim.close(); await smtp.close() })
  const first = await buildTestApp(t)
  const db = first.database.db
  const setup = await setUpLaunching(first.app, sim, {}, { smtp: { host: '127.0.0.1', port: smtp.port, tls: false } })
  await smtp.stop()
  await setup.send('', { subject: 'help', messageId: '<outage@sender.example>' })
  const pending = await eventually(async () => {
    const row = await db.selectFrom('notifications').selectAll().where('kind', '=', 'help').executeTakeFirst()
    return row !== undefined && row.attempts >= 1 && row
  })
  t.match(pending, { state: 'pending', attempts: 1, last_error: /ECONNREFUSED/ })
  t.ok(pending.next_attempt_at.getTime() > Date.now() + 20_000, 'retried later, with backoff')

  // mailrun restarts (a new app on the same database) and SMTP comes back.
  await first.app.close()
  const second = await buildTestApp(t, { database: first.database })
  await smtp.start()
  await db.updateTable('notifications').set({ next_attempt_at: new Date(Date.now() - 1000) }).where('id', '=', pending.id).execute()
  t.equal(await second.app.mailer.sendDue(), 1)
  t.equal(await second.app.mailer.sendDue(), 0)
  t.equal(smtp.received.filter((r) => r.mail.inReplyTo === '<outage@sender.example>').length, 1, 'delivered exactly once')
  t.match(await db.selectFrom('notifications').selectAll().where('id', '=', pending.id).executeTakeFirstOrThrow(), { state: 'sent', attempts: 2, last_error: null })
})

t.test('a reply that cannot be delivered before its give-up time is given up, with the error, visible on the launch', async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim, {}, { smtp: { host: '127.0.0.1', port: 1, tls: false } })
  const answer = (await setup.send('period = 1\nBuildReport')).json()
  const retried = await eventually(async () => {
    const r = await db.selectFrom('notifications').selectAll().where('launch_id', '=', answer.launch.id).executeTakeFirst()
    return r !== undefined && r.attempts === 1 && r
  })
  t.match(retried, { state: 'pending', last_error: /ECONNREFUSED/ })
  // A day later (MAILRUN_REPLY_GIVE_UP_S): the next failure is the last.
  await db.updateTable('notifications').set({ next_attempt_at: new Date(Date.now() - 1000), give_up_at: new Date(Date.now() + 1000) }).where('id', '=', retried.id).execute()
  t.equal(await app.mailer.sendDue(), 0)
  t.match(await db.selectFrom('notifications').selectAll().where('id', '=', retried.id).executeTakeFirstOrThrow(), { state: 'failed', attempts: 2, last_error: /^gave up: .*ECONNREFUSED/ })
  const detail = (await setup.api('GET', `/api/v1/launches/${String(answer.launch.id)}`)).json()
  t.match(detail.replies, [{ kind: 'launched', recipient: 'anna@sender.example', state: 'failed', attempts: 2, error: /^gave up: / }])
})

t.test('a sender whose address fails authentication gets no reply (no backscatter to forged addresses)', async (t) => {
  const sim = await startOrchestratorSimulator()
  const smtp = await startSmtpCatcher()
  t.teardown(async () => { await sim.close(); await smtp.close() })
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim, {}, { senderAuth: 'dmarc', smtp: { host: '127.0.0.1', port: smtp.port, tls: false } })
  await setup.send('', { subject: 'help', messageId: '<forged@sender.example>' })
  const message = await database.db.selectFrom('messages').select(['id', 'status']).where('dedupe_key', '=', '<forged@sender.example>').executeTakeFirstOrThrow()
  t.equal(message.status, 'rejected')
  t.match(await database.db.selectFrom('notifications').select(['state', 'last_error']).where('message_id', '=', message.id).execute(), [{ state: 'suppressed', last_error: 'not replied: the sender could not be authenticated' }])
  t.equal(smtp.received.length, 0)
  t.ok(buildMessage)
})
