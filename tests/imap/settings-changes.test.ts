import t from 'tap'
import type { Logger } from 'pino'
import { openDatabase } from '../../src/db/database.js'
import { createSweeper } from '../../src/imap/sweeper.js'
import { buildTestApp } from '../support/app.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot } from '../support/dovecot.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Saved IMAP settings are acted on at once: the sweeper's periodic pass comes every 10 s (and
// every 15 s here), so a mailbox connected within a few seconds was connected because the save
// was announced. On PostgreSQL the announcement reaches a sweeper on another connection pool, as
// another instance would be.

const USER = 'robots@acme.example'
const PASS = 'imap-app-password'

t.test(`a saved mailbox is watched at once, and new settings replace the old connection, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const dovecot = await startDovecot(t, { [USER]: PASS })
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const database = await createTestDatabase(t)
  const { app, log } = await buildTestApp(t, { database })
  // The sweeper runs on a database handle of its own where there can be another one.
  const sweeperDb = database.url !== undefined ? await openDatabase({ kind: 'postgres', url: database.url }) : database
  if (sweeperDb !== database) t.teardown(async () => { await sweeperDb.close() })
  const sweeper = (holder: string) => createSweeper({
    db: sweeperDb.db, tokens: app.mailTokens, receiver: app.receiver, logger: log.logger as unknown as Logger, deny: 'none', intervalMs: 60_000, lookbackMs: 600_000, leaseMs: 45_000, changes: sweeperDb.changes, holder
  }).start()
  const stop = sweeper('instance-a')
  t.teardown(stop)
  await new Promise((resolve) => setTimeout(resolve, 500))

  const setup = await setUpLaunching(app, sim, {}, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: USER, password: 'wrong-password' } })
  const mailbox = async () => await database.db.selectFrom('mailboxes').select(['imap_last_error', 'imap_last_swept_at']).where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()
  const refused = await eventually(async () => { const m = await mailbox(); return m.imap_last_error !== null && m }, 5000)
  t.match(refused.imap_last_error, /IMAP login failed/, 'the new mailbox was connected to within seconds of saving it')

  // A login failure waits 30 s before the next try; the corrected password does not wait for it.
  const patched = await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: USER, password: PASS } })
  t.equal(patched.statusCode, 200)
  const swept = await eventually(async () => { const m = await mailbox(); return m.imap_last_swept_at !== null && m.imap_last_error === null && m }, 5000)
  t.ok(swept, 'the corrected password was used within seconds')

  // A second instance: it leaves the mailbox to the first until that one stops, then takes it
  // without waiting for the lease to run out.
  const stopB = sweeper('instance-b')
  t.teardown(stopB)
  const holder = async () => (await database.db.selectFrom('imap_leases').select('holder').where('mailbox_id', '=', setup.mailboxId).executeTakeFirst())?.holder
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(await holder(), 'instance-a')
  await stop()
  await eventually(async () => await holder() === 'instance-b', 5000)
  t.pass('the mailbox a stopped instance let go of was taken over within seconds')

  const removed = await setup.api('DELETE', `/api/v1/mailboxes/${setup.mailboxId}`)
  t.equal(removed.statusCode, 204)
  await eventually(async () => (await database.db.selectFrom('imap_leases').select('mailbox_id').where('mailbox_id', '=', setup.mailboxId).execute()).length === 0, 5000)
  t.pass('a deleted mailbox is let go of within seconds')
})
