import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually } from '../support/launching.js'
import { freePort } from '../support/net.js'
import { setUpMailbox } from '../support/tenant-setup.js'

t.test(`a watched mailbox that cannot be swept makes /readyz and /metrics say so, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_SWEEP_INTERVAL_S: '1' } })
  const port = await freePort()
  const setup = await setUpMailbox(app, { mailbox: { imap: { host: '127.0.0.1', port, tls: false, user: 'robots', password: 'x' } } })
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  const stop = app.sweeper.start()
  t.teardown(stop)
  const ready = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    return res.statusCode === 503 && res
  })
  t.match(ready.json(), { status: 'unavailable', reason: new RegExp(`IMAP sweep stalled .* for mailbox ${setup.mailboxId}`) })
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /^mailrun_imap_stalled_mailboxes 1$/m)
  const mailbox = (await setup.api('GET', `/api/v1/mailboxes/${setup.mailboxId}`)).json()
  t.match(mailbox.imapStatus, { lastError: /ECONNREFUSED/, lastSweptAt: null })
  t.match(await database.db.selectFrom('imap_leases').selectAll().execute(), [{ mailbox_id: setup.mailboxId }])
})

t.test('MAILRUN_SWEEP_INTERVAL_S above 300 is refused at start-up', async (t) => {
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ MAILRUN_SWEEP_INTERVAL_S: '301' }), { message: /MAILRUN_SWEEP_INTERVAL_S: expected a number of seconds from 1 to 300 \(mail must be detected within 5 minutes\), got "301"/ })
})
