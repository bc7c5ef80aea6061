import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { sql } from 'kysely'
import t from 'tap'
import { recoverReceived } from '../../src/pipeline/recover-received.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { dkimKey, fakeDns, signMessage } from '../support/mail.js'
import { refuseNextDecision } from '../support/db-faults.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// Fault suite: mail that PostgreSQL cannot hold as text (U+0000, lone surrogates) and messages
// whose decision fails must end decided or failed — never stuck, never a 5xx, never blocking others.

const senderKey = dkimKey('sender.example')
const head = (extra: string[]): string => ['From: Anna Petrova <anna@sender.example>', 'To: robots@acme.example', 'Date: Mon, 30 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0', ...extra].join('\r\n')

t.test(`NUL bytes anywhere an MTA lets them through end decided, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: fakeDns([senderKey], { 'sender.example': 'v=DMARC1; p=reject' }) })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  const dmarc = await setUpMailbox(app, { tenant: 'Signed', address: 'signed@signed.example' })
  let n = 0
  const post = async (token: string, raw: Buffer | string) => await app.inject({ method: 'POST', url: `/inbound/${token}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })
  const cases: Array<[string, () => Promise<Buffer>, string?]> = [
    ['a NUL in the Message-ID', async () => Buffer.from(`${head(['Subject: Monthly Report', `Message-ID: <nul\u0000${n++}@sender.example>`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`)],
    ['a raw NUL in the subject', async () => Buffer.from(`${head(['Subject: Monthly\u0000Report', `Message-ID: <s${n++}@sender.example>`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`)],
    ['an RFC 2047 word carrying NUL in the subject', async () => Buffer.from(`${head(['Subject: =?utf-8?Q?Monthly=00Report?=', `Message-ID: <w${n++}@sender.example>`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`)],
    ['quoted-printable =00 in the body', async () => Buffer.from(`${head(['Subject: Monthly Report', `Message-ID: <q${n++}@sender.example>`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'])}\r\n\r\nperiod =3D 2026-11=00\r\nBuildReport=00\r\n`)],
    ['base64 with NUL in the body', async () => Buffer.from(`${head(['Subject: Monthly Report', `Message-ID: <b${n++}@sender.example>`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'])}\r\n\r\n${Buffer.from('period = 2026-11\u0000\nBuildReport').toString('base64')}\r\n`)],
    ['a NUL in the display name', async () => Buffer.from(`${head(['Subject: Monthly Report', `Message-ID: <d${n++}@sender.example>`, 'Content-Type: text/plain']).replace('From: Anna Petrova', 'From: =?utf-8?Q?Anna=00Petrova?=')}\r\n\r\nperiod = 2026-11\r\n`)],
    ['a lone surrogate written as an encoded word', async () => Buffer.from(`${head(['Subject: =?utf-16be?B?2D0=?= Report', `Message-ID: <u${n++}@sender.example>`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`)],
    ['a NUL in a DKIM d= tag', async () => {
      const signed = (await signMessage(`${head(['Subject: Monthly Report', `Message-ID: <k${n++}@sender.example>`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`, senderKey)).toString('latin1')
      return Buffer.from(signed.replace('d=sender.example', 'd=sender\u0000.example'), 'latin1')
    }, 'dmarc']
  ]
  for (const [name, build, mailbox] of cases) {
    t.test(name, async (t) => {
      const answer = await post(mailbox === 'dmarc' ? dmarc.ingressToken : setup.ingressToken, await build())
      t.equal(answer.statusCode, 200, 'the door answers 200, not 503')
      const id = answer.json().message
      const row = await database.db.selectFrom('messages').select(['status', 'raw', 'reason']).where('id', '=', id).executeTakeFirstOrThrow()
      t.not(row.status, 'received', `decided at once (${row.status}: ${row.reason ?? ''})`)
      t.ok(row.raw === null || row.status === 'rejected', `raw bytes kept only for a replay of a refused message (${row.status})`)
    })
  }

  t.test('messages with a NUL in their Message-ID stored together (one batch) are each decided', async (t) => {
    const raws = Array.from({ length: 6 }, () => `${head(['Subject: Monthly Report', `Message-ID: <batch\u0000${n++}@sender.example>`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`)
    const answers = (await Promise.all(raws.map(async (raw) => await post(setup.ingressToken, raw)))).map((a) => a.json())
    t.equal(new Set(answers.map((a) => a.message)).size, 6, 'six messages stored')
    t.same(answers.map((a) => a.status === 'duplicate'), raws.map(() => false), 'none taken for a duplicate')
    const rows = await database.db.selectFrom('messages').select('status').where('id', 'in', answers.map((a) => a.message)).execute()
    t.notOk(rows.some((r) => r.status === 'received'), 'each decided at once')
  })

  t.test('the same message with a NUL in its Message-ID, delivered twice, is a duplicate', async (t) => {
    const raw = `${head(['Subject: Monthly Report', 'Message-ID: <twice\u0000@sender.example>', 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`
    const first = (await post(setup.ingressToken, raw)).json()
    const second = await post(setup.ingressToken, raw)
    t.equal(second.statusCode, 200)
    t.same(second.json(), { message: first.message, status: 'duplicate', reason: 'this message was already received' })
  })
})

t.test(`a message that cannot be decided is retried with its own backoff, then failed, and never blocks others, on ${testDatabaseKind}`, async (t) => {
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  // A fault no code path expected: the database refuses to record a decision for these messages.
  await sql.raw(`create function refuse_poison() returns trigger language plpgsql as $$
    begin
      if new.status in ('accepted', 'rejected', 'ignored') and old.dedupe_key like '<poison-%' then raise exception 'poison message refused by a test trigger'; end if;
      return new;
    end $$`).execute(db)
  await sql.raw('create trigger refuse_poison before update on messages for each row execute function refuse_poison()').execute(db)
  const store = async (messageId: string, ageMs: number) => {
    const raw = Buffer.from(`${head(['Subject: Monthly Report', `Message-ID: ${messageId}`, 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`)
    return (await db.insertInto('messages').values({
      tenant_id: setup.tenantId,
      mailbox_id: setup.mailboxId,
      door: 'mime',
      dedupe_key: messageId,
      raw,
      raw_sha256: createHash('sha256').update(raw).digest('hex'),
      size_bytes: raw.length,
      auth_verdict: JSON.stringify({ rawIsOriginal: true, envelopeFrom: null, provider: null }),
      received_at: new Date(Date.now() - ageMs)
    }).returning('id').executeTakeFirstOrThrow()).id
  }
  // 120 poison messages, older than one message genuinely stranded by a crash.
  const poison: string[] = []
  for (let i = 0; i < 120; i++) poison.push(await store(`<poison-${i}@sender.example>`, 10 * 60_000))
  const stranded = await store('<stranded@sender.example>', 60_000)

  await recoverReceived(db, app.receiver, log.logger, 100)
  await recoverReceived(db, app.receiver, log.logger, 100)
  const decided = await db.selectFrom('messages').select('status').where('id', '=', stranded).executeTakeFirstOrThrow()
  t.equal(decided.status, 'accepted', 'the stranded message was decided within two passes of 100 despite 120 older poison messages')
  const first = await db.selectFrom('messages').select(['status', 'decide_attempts', 'next_decide_at', 'reason']).where('id', '=', poison[0] ?? '').executeTakeFirstOrThrow()
  t.match(first, { status: 'received', decide_attempts: 1, next_decide_at: Date, reason: /attempt 1 failed: poison message refused/ }, 'a poison message waits its own backoff')

  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, '/readyz reports messages undecided for more than 5 minutes')
  t.match(ready.json().reason, /120 messages stored more than 5 minutes ago are still not processed/)
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /^mailrun_messages_stuck 120$/m)

  for (let attempt = 2; attempt <= 5; attempt++) {
    await db.updateTable('messages').set({ next_decide_at: sql<Date>`now() - interval '1 second'` }).where('status', '=', 'received').execute()
    await recoverReceived(db, app.receiver, log.logger, 200)
  }
  const failed = await db.selectFrom('messages').select(['status', 'raw', 'reason', 'decide_attempts']).where('id', 'in', poison).execute()
  t.ok(failed.every((m) => m.status === 'failed' && m.decide_attempts === 5), 'after five attempts each is failed (its raw bytes kept for a replay, MAILRUN_REPLAY_HOURS)')
  t.match(failed[0]?.reason, /^could not be processed after 5 attempts: poison message refused by a test trigger/)
  const listed = await setup.api('GET', '/api/v1/messages?status=failed&limit=5')
  t.equal(listed.statusCode, 200)
  t.match(listed.json().items[0], { status: 'failed', reason: /could not be processed after 5 attempts/ }, 'visible in the messages API')
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /^mailrun_messages_total\{door="mime",status="failed"\} 120$/m, 'and counted in /metrics')
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'nothing is stuck any more')
})

t.test(`a message decided late is judged by the sender policy in force when it arrived, on ${testDatabaseKind}`, async (t) => {
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  // The door's own decision fails once (the database refuses the update), as in an outage.
  await refuseNextDecision(db)
  const raw = `${head(['Subject: Monthly Report', 'Message-ID: <policy@sender.example>', 'Content-Type: text/plain'])}\r\n\r\nperiod = 2026-11\r\n`
  const answer = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })
  t.match(answer.json(), { status: 'accepted', reason: /processed shortly/ })
  // The tenant turns DMARC on before recovery runs: this unsigned message arrived under "off".
  t.equal((await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { senderAuth: 'dmarc' })).statusCode, 200)
  await db.updateTable('messages').set({ next_decide_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.json().message).execute()
  t.equal(await recoverReceived(db, app.receiver, log.logger), 1)
  t.match(await db.selectFrom('messages').select(['status', 'reason']).where('id', '=', answer.json().message).executeTakeFirstOrThrow(), { status: 'accepted' })
})

t.test(`any bytes in the subject, a header or the body of a command end decided, never a 5xx, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  let n = 0
  const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))
  await fc.assert(fc.asyncProperty(bytes, bytes, bytes, async (subject, header, body) => {
    const raw = Buffer.concat([
      Buffer.from(`${head([`Message-ID: <fuzz-${n++}@sender.example>`])}\r\nSubject: `), subject, Buffer.from('\r\nX-Note: '), header,
      Buffer.from('\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nperiod = 2026-11\r\n'), body, Buffer.from('\r\n')
    ])
    const answer = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })
    if (answer.statusCode !== 200) throw new Error(`the door answered ${answer.statusCode}: ${answer.body}`)
    const row = await database.db.selectFrom('messages').select(['status', 'reason']).where('id', '=', answer.json().message).executeTakeFirstOrThrow()
    if (row.status === 'received') throw new Error(`left undecided: ${row.reason ?? ''}`)
  }), { numRuns: 300, seed: 20261130 })
  t.pass('300 generated messages, each decided')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the server stays healthy')
})
