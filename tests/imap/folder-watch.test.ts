import { connect, createServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { ImapFlow } from 'imapflow'
import type { Logger } from 'pino'
import { createSweeper } from '../../src/imap/sweeper.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot, WITHOUT_NOTIFY, type Dovecot } from '../support/dovecot.js'
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

/**
 * Between the watcher and Dovecot. `withholdReport()` drops the next unsolicited STATUS (NOTIFY's
 * report of a folder that is not selected; a STATUS the watcher asked for passes): what Dovecot
 * under load was seen to do with mail that reached Junk while the watcher had Junk open.
 */
interface ReportWithholdingProxy { port: number, withholdReport: () => void, opened: (folder: string) => number }

async function startReportWithholdingProxy (t: Test, target: { host: string, port: number }): Promise<ReportWithholdingProxy> {
  let withhold = 0
  const opens = new Map<string, number>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    let asked: string | null = null
    const drop = (): void => { client.destroy(); upstream.destroy() }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      asked = /^(\S+) STATUS /i.exec(text)?.[1] ?? asked
      const folder = /^\S+ (?:SELECT|EXAMINE) "?([^"\r\n ]+)"?/i.exec(text)?.[1]
      if (folder !== undefined) opens.set(folder, (opens.get(folder) ?? 0) + 1)
      upstream.write(chunk)
    })
    let partial = ''
    upstream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('latin1')).split('\r\n')
      partial = lines.pop() ?? ''
      const kept = lines.filter((line) => {
        if (asked !== null && line.startsWith(`${asked} `)) asked = null
        if (asked !== null || withhold === 0 || !line.startsWith('* STATUS ')) return true
        withhold--
        return false
      })
      if (kept.length > 0) client.write(Buffer.from(kept.map((line) => `${line}\r\n`).join(''), 'latin1'))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  return { port: (server.address() as AddressInfo).port, withholdReport: () => { withhold++ }, opened: (folder) => opens.get(folder) ?? 0 }
}

const junkMessage = (id: string): string => buildMessage({ from: 'Anna <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: `<${id}@sender.example>` })

/**
 * A Dovecot behind the report-withholding proxy, watched by a sweeper whose receiver calls
 * `whileOpen` with each message's raw text once it is stored — while the sweep still has the
 * message's folder open — and a full sweep a minute apart. Resolves once the first sweep is done.
 */
async function watchedThroughProxy (t: Test, whileOpen: (raw: string, dovecot: Dovecot, proxy: ReportWithholdingProxy) => Promise<void>) {
  const dovecot = await startDovecot(t, { [USER]: PASS })
  const proxy = await startReportWithholdingProxy(t, dovecot)
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim, {}, { imap: { host: '127.0.0.1', port: proxy.port, tls: false, user: USER, password: PASS } })
  const receiver: typeof app.receiver = {
    ...app.receiver,
    receive: async (mailbox, mail, afterStore) => {
      const result = await app.receiver.receive(mailbox, mail, afterStore)
      await whileOpen(mail.raw.toString('latin1'), dovecot, proxy)
      return result
    }
  }
  const stop = createSweeper({
    db, tokens: app.mailTokens, receiver, logger: log.logger as unknown as Logger, deny: 'none', intervalMs: FULL_SWEEP_MS, quietCheckMs: 2000, lookbackMs: 600_000
  }).start()
  t.teardown(stop)
  await eventually(async () => (await db.selectFrom('mailboxes').select('imap_last_swept_at').where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()).imap_last_swept_at !== null, 20_000)
  return { dovecot, proxy, db, mailboxId: setup.mailboxId }
}

// Mail that reaches Junk while the watcher has Junk open is reported as EXISTS only if Dovecot
// gets to say so before the watcher opens INBOX again, and NOTIFY's STATUS reports only what
// arrives once Junk is no longer selected: CI saw a second Junk message wait for the full sweep.
// Here the next message lands while the sweep still holds the previous one, and the proxy
// withholds Dovecot's report of it.
t.test(`mail reaching Junk while the watcher has Junk open is found before the full sweep, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const LAST = 4
  const { dovecot, db } = await watchedThroughProxy(t, async (raw, dovecot, proxy) => {
    const n = Number(/junk-(\d+)@/.exec(raw)?.[1] ?? NaN)
    if (n < LAST) {
      proxy.withholdReport()
      await dovecot.append(USER, 'Junk', junkMessage(`junk-${n + 1}`))
    }
  })
  await dovecot.append(USER, 'Junk', junkMessage('junk-0'))
  for (let n = 0; n <= LAST; n++) {
    const stored = await eventually(async () => await db.selectFrom('messages').select('imap_folder').where('dedupe_key', '=', `<junk-${n}@sender.example>`).where('status', '!=', 'received').executeTakeFirst(), 10_000)
      .catch(() => null)
    t.same(stored, { imap_folder: 'Junk' }, `junk-${n} is found long before the full sweep`)
  }
})

// A message that reaches Junk and is deleted before mailrun read it leaves UIDNEXT past the
// cursor with nothing there: the cursor passes it, or every STATUS after a visit to Junk would
// say "news" and the watcher would open Junk again and again.
t.test(`mail deleted from Junk before it was read: the cursor passes it and Junk is not opened again and again, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  let goneUid = 0
  const { dovecot, proxy, db, mailboxId } = await watchedThroughProxy(t, async (raw, dovecot) => {
    if (!raw.includes('<kept@')) return
    // While the watcher has Junk open: one more message comes and is deleted at once.
    const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: USER, pass: PASS }, logger: false })
    await client.connect()
    await client.mailboxOpen('Junk')
    const appended = await client.append('Junk', junkMessage('gone'))
    goneUid = appended === false ? 0 : appended.uid ?? 0
    await client.messageDelete(String(goneUid), { uid: true })
    await client.logout()
  })
  await dovecot.append(USER, 'Junk', junkMessage('kept'))
  const cursor = async (): Promise<number | undefined> => (await db.selectFrom('imap_cursors').select('last_uid').where('mailbox_id', '=', mailboxId).where('folder', '=', 'Junk').executeTakeFirst())?.last_uid
  const passed = await eventually(async () => goneUid > 0 && (await cursor() ?? 0) >= goneUid, 10_000).catch(() => false)
  t.ok(passed, `the Junk cursor passes the deleted message's UID ${goneUid} (it is at ${await cursor()})`)
  const opens = proxy.opened('Junk')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(proxy.opened('Junk'), opens, 'Junk is not opened again while nothing comes')
  t.equal(await db.selectFrom('messages').select('id').where('dedupe_key', '=', '<gone@sender.example>').executeTakeFirst(), undefined, 'the deleted message was never read')
})
