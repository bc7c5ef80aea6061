import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { sweepChunks } from '../../src/pipeline/raw-chunks.js'
import { recoverReceived } from '../../src/pipeline/recover-received.js'
import { buildTestApp } from '../support/app.js'
import { refuseNextDecision } from '../support/db-faults.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// Large mail: the default limit admits what mail clients send, and on the embedded database the
// raw bytes wait for their decision in a synced spool file, not in the row (PGlite copies a bytea
// through WebAssembly as hex text: seconds of blocked event loop for 30 MB). Store first and crash
// recovery hold with the file. Timings are measured by `npm run bench` (part "big").

function withAttachment (bytes: number, messageId: string): Buffer {
  const encoded = randomBytes(bytes).toString('base64').replace(/.{76}/g, '$&\r\n')
  return Buffer.from([
    'From: anna@sender.example', 'To: robots@acme.example', 'Subject: Monthly Report', `Message-ID: <${messageId}@sender.example>`, 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '', 'period = 2026-11', '--b',
    'Content-Type: application/pdf; name="invoice.pdf"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="invoice.pdf"', '', encoded, '--b--', ''
  ].join('\r\n'))
}

t.test('the default message limit admits a 25 MB attachment', async (t) => {
  const message = withAttachment(25 * 1024 * 1024, 'twenty-five')
  const limit = loadConfig({}).maxMessageBytes
  t.ok(message.length <= limit, `a 25 MiB attachment makes a ${(message.length / 2 ** 20).toFixed(1)} MiB message; the limit is ${(limit / 2 ** 20).toFixed(0)} MiB`)
})

t.test('on the embedded database a large message waits in a spool file until it is decided', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mailrun-spool-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  const database = await openDatabase({ kind: 'pglite', dataDir })
  t.teardown(database.close)
  await migrateToLatest(database.db)
  const { app, log } = await buildTestApp(t, { database })
  const db = database.db
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  const spoolDir = path.join(dataDir, 'spool')
  const files = async (): Promise<string[]> => (await readdir(spoolDir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'))
  const post = async (raw: Buffer) => (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()

  const big = withAttachment(2 * 1024 * 1024, 'big-one')
  const answer = await post(big)
  t.match(answer, { status: 'accepted' })
  t.same(await files(), [], 'decided at once: the file is gone')
  t.match(await db.selectFrom('messages').select(['raw', 'raw_spool']).where('id', '=', answer.message).executeTakeFirstOrThrow(), { raw: null, raw_spool: null })
  t.match(await post(big), { status: 'duplicate' })
  t.same(await files(), [], 'a duplicate leaves no file behind')

  // The door's decision fails once, as in a crash between store and decision.
  await refuseNextDecision(db)
  const stranded = await post(withAttachment(2 * 1024 * 1024, 'stranded'))
  t.match(stranded, { status: 'accepted', reason: /processed shortly/ })
  const waiting = await db.selectFrom('messages').select(['status', 'raw', 'raw_spool']).where('id', '=', stranded.message).executeTakeFirstOrThrow()
  t.match(waiting, { status: 'received', raw: null, raw_spool: /\.eml$/ }, 'the row names the spool file instead of holding the bytes')
  t.same(await files(), [waiting.raw_spool], 'which is on disk')
  await db.updateTable('messages').set({ next_decide_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', stranded.message).execute()
  t.equal(await recoverReceived(db, app.receiver, log.logger), 1, 'recovery decides it from the file')
  t.match(await db.selectFrom('messages').select(['status', 'raw_spool']).where('id', '=', stranded.message).executeTakeFirstOrThrow(), { status: 'accepted', raw_spool: null })
  t.same(await files(), [], 'and removes the file')

  const small = await post(Buffer.from('From: anna@sender.example\r\nSubject: Monthly Report\r\nMessage-ID: <small@sender.example>\r\n\r\nperiod = 2026-11\r\n'))
  t.match(small, { status: 'accepted' }, 'small messages never touch the spool')

  // A file no row names (the process died between writing it and the insert) is swept.
  const orphan = path.join(spoolDir, '0b5c1d9e-0000-4000-8000-000000000009.eml')
  await writeFile(orphan, 'x')
  await utimes(orphan, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000))
  t.equal(await app.spool?.sweep(db), 1)
  t.same(await files(), [])
})

t.test('without a spool directory a large message waits in 1 MiB chunk rows, inserted with its row', async (t) => {
  // PostgreSQL (every replica must reach the bytes) or PGlite in memory: the test database is either.
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  const post = async (raw: Buffer) => (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
  const chunks = async (id: string) => await db.selectFrom('message_raw_chunks').select(['seq', sql<number>`length(bytes)`.as('size')]).where('message_id', '=', id).orderBy('seq').execute()

  const decided = await post(withAttachment(2 * 1024 * 1024, 'chunked-now'))
  t.match(decided, { status: 'accepted' })
  t.match(await db.selectFrom('messages').select(['raw', 'raw_chunks']).where('id', '=', decided.message).executeTakeFirstOrThrow(), { raw: null, raw_chunks: null })
  t.same(await chunks(decided.message), [], 'decided at once: the chunks are gone')

  await refuseNextDecision(db)
  const raw = withAttachment(2 * 1024 * 1024, 'chunked-stranded')
  const stranded = await post(raw)
  t.match(stranded, { status: 'accepted', reason: /processed shortly/ })
  const waiting = await db.selectFrom('messages').select(['status', 'raw', 'raw_chunks', 'size_bytes']).where('id', '=', stranded.message).executeTakeFirstOrThrow()
  t.match(waiting, { status: 'received', raw: null, raw_chunks: 3 }, 'the row says how many chunks hold the bytes')
  t.same((await chunks(stranded.message)).map((c) => Number(c.size)), [1048576, 1048576, raw.length - 2 * 1048576], 'three chunks, the last one short')
  t.match(await post(raw), { status: 'duplicate' }, 'the same message again is a duplicate')
  t.equal((await chunks(stranded.message)).length, 3, 'and adds no chunks')

  await db.updateTable('messages').set({ next_decide_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', stranded.message).execute()
  t.equal(await recoverReceived(db, app.receiver, log.logger), 1, 'recovery decides it from the chunks')
  const after = await db.selectFrom('messages').select(['status', 'raw_chunks', 'raw_sha256']).where('id', '=', stranded.message).executeTakeFirstOrThrow()
  t.match(after, { status: 'accepted', raw_chunks: null })
  t.equal(after.raw_sha256, createHash('sha256').update(raw).digest('hex'), 'the hash is of the whole message')
  t.same(await chunks(stranded.message), [], 'and deletes the chunks')

  // A stop between the decision and the clean-up leaves chunks of a decided message: swept.
  const left = await post(withAttachment(300 * 1024, 'chunks-left'))
  await db.insertInto('message_raw_chunks').values({ message_id: left.message, seq: 0, bytes: Buffer.from('left behind') }).execute()
  t.equal(await sweepChunks(db), 1, 'the chunk of a decided message is swept')
  t.equal(await sweepChunks(db), 0)
})
