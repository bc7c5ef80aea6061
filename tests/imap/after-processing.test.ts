import { ImapFlow } from 'imapflow'
import type { Logger } from 'pino'
import t from 'tap'
import { createSweeper } from '../../src/imap/sweeper.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot } from '../support/dovecot.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { buildMessage } from '../support/mail.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// imap.afterProcessing against a real Dovecot: leave (the sweep only reads), seen (\Seen once
// decided), move (handled mail to processedFolder, refused mail to rejectedFolder, folders made
// when missing) — and in every mode each message launches once.

const USERS = { 'robots@acme.example': 'leave-pass', 'seen@acme.example': 'seen-pass', 'move@acme.example': 'move-pass' }

t.test(`what the IMAP sweep does with handled mail, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const dovecot = await startDovecot(t, USERS)
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const imap = (user: keyof typeof USERS) => ({ host: dovecot.host, port: dovecot.port, tls: false, user, password: USERS[user] })
  const setup = await setUpLaunching(app, sim, {}, { imap: imap('robots@acme.example') })

  t.test('the settings are checked and shown', async (t) => {
    const bad = await setup.api('POST', '/api/v1/mailboxes', { address: 'seen@acme.example', senderAuth: 'off', imap: { ...imap('seen@acme.example'), afterProcessing: 'seen', processedFolder: 'Done' } })
    t.match(bad.json(), { statusCode: 400, message: /imap\.processedFolder is used only with afterProcessing move/ })
    const swept = await setup.api('POST', '/api/v1/mailboxes', { address: 'move@acme.example', senderAuth: 'off', imap: { ...imap('move@acme.example'), afterProcessing: 'move', processedFolder: 'inbox' } })
    t.match(swept.json(), { statusCode: 400, message: /imap\.processedFolder "inbox" is a folder the sweep reads for new mail/ })
    const seen = await setup.api('POST', '/api/v1/mailboxes', { address: 'seen@acme.example', senderAuth: 'off', imap: { ...imap('seen@acme.example'), afterProcessing: 'seen' } })
    t.equal(seen.statusCode, 201, seen.body)
    t.match(seen.json().imap, { afterProcessing: 'seen', processedFolder: null, rejectedFolder: null })
    const move = await setup.api('POST', '/api/v1/mailboxes', { address: 'move@acme.example', senderAuth: 'off', imap: { ...imap('move@acme.example'), afterProcessing: 'move', rejectedFolder: 'Refused' } })
    t.equal(move.statusCode, 201, move.body)
    t.match(move.json().imap, { afterProcessing: 'move', processedFolder: 'Processed', rejectedFolder: 'Refused' })
    t.match((await setup.api('GET', `/api/v1/mailboxes/${setup.mailboxId}`)).json().imap, { afterProcessing: 'leave', processedFolder: null })
  })

  t.test('leave, seen and move, each message launched once', async (t) => {
    const stop = createSweeper({ db, tokens: app.mailTokens, receiver: app.receiver, logger: log.logger as unknown as Logger, deny: 'none', intervalMs: 2000, lookbackMs: 600_000, leaseMs: 3000, holder: 'test' }).start()
    t.teardown(stop)
    await eventually(async () => (await db.selectFrom('imap_cursors').selectAll().execute()).length >= 6, 20_000)
    for (const user of Object.keys(USERS)) {
      const tag = user.split('@')[0] as string
      await dovecot.append(user, 'INBOX', buildMessage({ from: 'Anna <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: `<good-${tag}@sender.example>` }))
      await dovecot.append(user, 'INBOX', buildMessage({ from: 'Mallory <mallory@stranger.example>', subject: 'Monthly Report', body: 'period = 2026-10', messageId: `<bad-${tag}@stranger.example>` }))
    }
    const decided = async () => await db.selectFrom('messages').select(['dedupe_key', 'status', 'id']).where('status', '!=', 'received').where('door', '=', 'imap').execute()
    await eventually(async () => (await decided()).length === 6, 30_000)
    const rows = await decided()
    t.equal(rows.filter((r) => r.dedupe_key.startsWith('<good-')).every((r) => r.status === 'accepted'), true)
    t.equal(rows.filter((r) => r.dedupe_key.startsWith('<bad-')).every((r) => r.status !== 'accepted'), true)

    /** Each folder of the user's mailbox: its messages' ids and whether they are \Seen. */
    const folders = async (user: keyof typeof USERS) => {
      const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user, pass: USERS[user] }, logger: false })
      await client.connect()
      const found: Record<string, Array<{ id: string, seen: boolean }>> = {}
      for (const folder of await client.list()) {
        const lock = await client.getMailboxLock(folder.path, { readOnly: true })
        try {
          const messages: Array<{ id: string, seen: boolean }> = []
          if ((client.mailbox !== false && client.mailbox.exists > 0)) {
            for await (const m of client.fetch('1:*', { envelope: true, flags: true })) messages.push({ id: m.envelope?.messageId ?? '', seen: m.flags?.has('\\Seen') === true })
          }
          if (messages.length > 0) found[folder.path] = messages.sort((a, b) => a.id.localeCompare(b.id))
        } finally { lock.release() }
      }
      await client.logout()
      return found
    }
    // The sweep acts right after each decision; give the move mailbox a moment to finish.
    await eventually(async () => { const f = await folders('move@acme.example'); return f.Processed !== undefined && f.Refused !== undefined && f.INBOX === undefined }, 20_000)
    t.same(await folders('robots@acme.example'), { INBOX: [{ id: '<bad-robots@stranger.example>', seen: false }, { id: '<good-robots@sender.example>', seen: false }] }, 'leave: untouched')
    await eventually(async () => (await folders('seen@acme.example')).INBOX?.every((m) => m.seen), 20_000)
    t.same(await folders('seen@acme.example'), { INBOX: [{ id: '<bad-seen@stranger.example>', seen: true }, { id: '<good-seen@sender.example>', seen: true }] }, 'seen: flagged, where they were')
    t.same(await folders('move@acme.example'), { Processed: [{ id: '<good-move@sender.example>', seen: false }], Refused: [{ id: '<bad-move@stranger.example>', seen: false }] }, 'move: handled and refused mail in their folders, INBOX empty')

    // A few more sweeps: nothing is read twice, nothing launched twice.
    await new Promise((resolve) => setTimeout(resolve, 4500))
    const launches = await db.selectFrom('launches').innerJoin('messages', 'messages.id', 'launches.message_id').select('messages.dedupe_key').where('messages.door', '=', 'imap').execute()
    t.same(launches.map((l) => l.dedupe_key).sort(), ['<good-move@sender.example>', '<good-robots@sender.example>', '<good-seen@sender.example>'])
    t.equal((await decided()).length, 6)
  })
})
