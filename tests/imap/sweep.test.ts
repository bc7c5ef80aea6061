import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { createSweeper, reconnectDelay } from '../../src/imap/sweeper.js'
import { buildTestApp, type TestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot, type Dovecot } from '../support/dovecot.js'
import { eventually, setUpLaunching, type LaunchSetup } from '../support/launching.js'
import { buildMessage } from '../support/mail.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

const USER = 'robots@acme.example'
const PASS = 'imap-app-password'
const INTERVAL_MS = 8000

t.test('the reconnect backoff is capped, jittered, and slow after a login failure', async (t) => {
  t.same([1, 2, 3].map((n) => reconnectDelay(n, false, () => 1)), [1000, 2000, 4000])
  t.equal(reconnectDelay(20, false, () => 1), 60_000)
  t.equal(reconnectDelay(1, true, () => 0), 30_000)
  t.equal(reconnectDelay(20, true, () => 1), 30 * 60_000)
})

t.test(`the IMAP sweep against a real Dovecot, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const dovecot: Dovecot = await startDovecot(t, { [USER]: PASS, 'other@acme.example': 'other-pass' })
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const test: TestApp = await buildTestApp(t)
  const { app, database } = test
  const db = database.db
  const setup: LaunchSetup = await setUpLaunching(app, sim, {}, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: USER, password: PASS } })
  const sweeperFor = (a: FastifyInstance, holder: string) => createSweeper({
    db, tokens: a.mailTokens, receiver: a.receiver, logger: test.log.logger as unknown as Logger, deny: 'none', intervalMs: INTERVAL_MS, lookbackMs: 600_000, leaseMs: 3000, holder
  })
  let stop = sweeperFor(app, 'replica-a').start()
  t.teardown(async () => { await stop() })
  const message = (id: string, body = 'period = 2026-10\nBuildReport') => buildMessage({ from: 'Anna <anna@sender.example>', subject: 'Monthly Report', body, messageId: `<${id}@sender.example>` })
  const stored = async (id: string, ms = 20_000) => await eventually(async () => await db.selectFrom('messages').selectAll().where('dedupe_key', '=', `<${id}@sender.example>`).where('status', '!=', 'received').executeTakeFirst(), ms)
  const launchesOf = async (messageId: string) => await db.selectFrom('launches').selectAll().where('message_id', '=', messageId).execute()

  t.test('a message in INBOX is picked up through IDLE and launched', async (t) => {
    await eventually(async () => (await db.selectFrom('imap_cursors').selectAll().where('mailbox_id', '=', setup.mailboxId).execute()).length >= 2)
    await dovecot.append(USER, 'INBOX', message('idle-1'))
    const row = await stored('idle-1')
    t.match(row, { door: 'imap', imap_folder: 'INBOX', status: 'accepted' })
    const launches = await eventually(async () => { const l = await launchesOf(row.id); return l[0]?.state === 'launched' && l })
    t.equal(launches.length, 1)
    // IDLE, not the interval sweep: detected well inside the interval (INTERNALDATE has 1 s resolution).
    for (const id of ['idle-2', 'idle-3']) {
      await new Promise((resolve) => setTimeout(resolve, 1500))
      await dovecot.append(USER, 'INBOX', message(id))
      const next = await stored(id)
      t.ok((next.detection_latency_ms ?? Infinity) < INTERVAL_MS / 2, `INBOX detected in ${String(next.detection_latency_ms)} ms (interval ${INTERVAL_MS} ms)`)
    }
  })

  t.test('a message in Junk is found by the sweep of every folder', async (t) => {
    await dovecot.append(USER, 'Junk', message('junk-1'))
    const row = await stored('junk-1')
    t.match(row, { door: 'imap', imap_folder: 'Junk', status: 'accepted' })
    t.ok((row.detection_latency_ms ?? Infinity) <= INTERVAL_MS + 5000, `detected in ${String(row.detection_latency_ms)} ms, within the interval + 5 s`)
  })

  t.test('a message pushed by the provider and found by the sweep launches once', async (t) => {
    const raw = message('both-1')
    const pushed = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
    t.equal(pushed.status, 'accepted')
    await dovecot.append(USER, 'INBOX', raw)
    await dovecot.append(USER, 'INBOX', message('after-both-1'))
    await stored('after-both-1')
    t.equal((await launchesOf(pushed.message)).length, 1)
    t.equal((await db.selectFrom('messages').where('dedupe_key', '=', '<both-1@sender.example>').selectAll().execute()).length, 1)
  })

  t.test('a folder renumbered by the server (new UIDVALIDITY) launches nothing twice', async (t) => {
    await dovecot.recreate(USER, 'Junk')
    await dovecot.append(USER, 'Junk', message('junk-1'))
    await dovecot.append(USER, 'Junk', message('junk-2'))
    const row = await stored('junk-2')
    t.equal(row.status, 'accepted')
    const first = await db.selectFrom('messages').select('id').where('dedupe_key', '=', '<junk-1@sender.example>').execute()
    t.equal(first.length, 1)
    t.equal((await launchesOf(first[0]?.id ?? '')).length, 1)
  })

  t.test('Dovecot restarted mid-run: mailrun reconnects and misses nothing delivered meanwhile', async (t) => {
    await dovecot.stop()
    await dovecot.deliver(USER, 'INBOX', message('while-down-1'))
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await dovecot.start()
    const row = await stored('while-down-1', 40_000)
    t.equal(row.status, 'accepted')
  })

  t.test('mail that arrives while mailrun is stopped is found after start', async (t) => {
    await stop()
    await dovecot.append(USER, 'INBOX', message('while-stopped-1'))
    await dovecot.append(USER, 'Junk', message('while-stopped-2'))
    stop = sweeperFor(app, 'replica-a').start()
    t.equal((await stored('while-stopped-1')).status, 'accepted')
    t.equal((await stored('while-stopped-2')).status, 'accepted')
  })

  t.test('a wrong password is recorded on the mailbox and not retried in a tight loop', async (t) => {
    const other = await setUpLaunching(app, sim, {}, { address: 'second@acme.example', imap: { host: dovecot.host, port: dovecot.port, tls: false, user: 'other@acme.example', password: 'wrong' } }).catch(() => null)
    const mailboxId = other?.mailboxId ?? (await setup.api('POST', '/api/v1/mailboxes', { address: 'second@acme.example', imap: { host: dovecot.host, port: dovecot.port, tls: false, user: 'other@acme.example', password: 'wrong' } })).json().id
    const row = await eventually(async () => {
      const r = await db.selectFrom('mailboxes').select(['imap_last_error', 'imap_last_error_at']).where('id', '=', mailboxId).executeTakeFirstOrThrow()
      return r.imap_last_error !== null && r
    }, 20_000)
    t.match(row.imap_last_error, /^IMAP login failed: .*check the user and app password$/)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const attempts = test.log.lines.filter((l) => l.includes(mailboxId) && l.includes('IMAP session ended')).length
    t.equal(attempts, 1, 'one login attempt; the next waits at least 30 s')
  })

  t.test('two replicas on one database: each mailbox is swept by one of them, each message launched once', async (t) => {
    const stopB = sweeperFor(app, 'replica-b').start()
    t.teardown(async () => { await stopB() })
    await dovecot.append(USER, 'INBOX', message('two-replicas-1'))
    const row = await stored('two-replicas-1')
    t.equal((await launchesOf(row.id)).length, 1)
    const leases = await db.selectFrom('imap_leases').selectAll().where('mailbox_id', '=', setup.mailboxId).execute()
    t.equal(leases.length, 1)
    t.equal(leases[0]?.holder, 'replica-a', 'the first holder keeps it while alive')
    await stop()
    stop = async () => {}
    await dovecot.append(USER, 'INBOX', message('after-takeover-1'))
    const taken = await stored('after-takeover-1', 30_000)
    t.equal(taken.status, 'accepted')
    t.equal((await db.selectFrom('imap_leases').select('holder').where('mailbox_id', '=', setup.mailboxId).executeTakeFirstOrThrow()).holder, 'replica-b', 'the other replica took over')
  })
})
