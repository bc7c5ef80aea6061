import t from 'tap'
import type { Logger } from 'pino'
import { createSweeper } from '../../src/imap/sweeper.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot, WITHOUT_NOTIFY } from '../support/dovecot.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { buildMessage } from '../support/mail.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// How mail in folders other than INBOX is heard of between full sweeps: through IMAP NOTIFY where
// the server offers it, by the quiet-folder check where it does not. The full sweep is set a
// minute apart here, so a message found within seconds was found by one of those.

const USER = 'robots@acme.example'
const PASS = 'imap-app-password'
const FULL_SWEEP_MS = 60_000

for (const server of ['offers NOTIFY', 'does not offer NOTIFY'] as const) {
  t.test(`new mail in Junk and an extra folder, the server ${server}, on ${testDatabaseKind}`, async (t) => {
    if (!needsDovecot(t)) return
    const dovecot = await startDovecot(t, { [USER]: PASS }, server === 'offers NOTIFY' ? {} : { extraConfig: WITHOUT_NOTIFY })
    await dovecot.create(USER, 'Orders')
    const sim = await startOrchestratorSimulator()
    t.teardown(sim.close)
    const { app, database, log } = await buildTestApp(t)
    const db = database.db
    const setup = await setUpLaunching(app, sim, {}, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: USER, password: PASS, folders: ['Orders'] } })
    const stop = createSweeper({
      db, tokens: app.mailTokens, receiver: app.receiver, logger: log.logger as unknown as Logger, deny: 'none', intervalMs: FULL_SWEEP_MS, quietCheckMs: 2000, lookbackMs: 600_000
    }).start()
    t.teardown(stop)
    const message = (id: string): string => buildMessage({ from: 'Anna <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: `<${id}@sender.example>` })
    const storedWithin = async (id: string, ms: number): Promise<{ imap_folder: string | null, status: string }> =>
      await eventually(async () => await db.selectFrom('messages').select(['imap_folder', 'status']).where('dedupe_key', '=', `<${id}@sender.example>`).where('status', '!=', 'received').executeTakeFirst(), ms)
    await eventually(async () => (await db.selectFrom('mailboxes').select('imap_last_swept_at').where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()).imap_last_swept_at !== null, 20_000)
    const mode = server === 'offers NOTIFY' ? 'IMAP watching every folder through NOTIFY' : 'IMAP watching INBOX through IDLE, other folders checked every few seconds'
    t.ok(log.lines.some((l) => l.includes(mode)), `the log says: ${mode}`)

    // Two in a row per folder: Dovecot stopped reporting after the first when NOTIFY was set twice.
    for (const [folder, id] of [['Junk', 'junk-1'], ['Junk', 'junk-2'], ['Orders', 'orders-1'], ['Orders', 'orders-2']] as const) {
      await dovecot.append(USER, folder, message(id))
      t.match(await storedWithin(id, 10_000), { imap_folder: folder, status: 'accepted' }, `${id} in ${folder} is found long before the full sweep`)
    }
    // Both folders at once: each report is read for the folder it names.
    await Promise.all([dovecot.append(USER, 'Junk', message('junk-3')), dovecot.append(USER, 'Orders', message('orders-3')), dovecot.append(USER, 'INBOX', message('inbox-3'))])
    t.match(await storedWithin('junk-3', 10_000), { imap_folder: 'Junk' })
    t.match(await storedWithin('orders-3', 10_000), { imap_folder: 'Orders' })
    t.match(await storedWithin('inbox-3', 10_000), { imap_folder: 'INBOX' })
  })
}
