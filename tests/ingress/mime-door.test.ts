import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

const senderKey = dkimKey('sender.example')
const strangerKey = dkimKey('stranger.example')
const attackerKey = dkimKey('attacker.example')
const dns = fakeDns([senderKey, strangerKey, attackerKey], { 'sender.example': 'v=DMARC1; p=reject', 'stranger.example': 'v=DMARC1; p=none' })

const goodBody = 'period = 2026-10\nExtractData: region = North, currency = RUB\nBuildReport\nSendReport: to = "finance@acme.example, boss@acme.example"\n-- \nAnna'

t.test(`the raw MIME door on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const db = database.db
  const setup = await setUpMailbox(app)
  const post = async (raw: Buffer | string, contentType = 'message/rfc822') => await app.inject({
    method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': contentType }, payload: raw
  })
  const messageRow = async (id: string) => await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

  t.test('a signed command from an allowed sender is stored, accepted and becomes a launch', async (t) => {
    const raw = await signMessage(buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Re: Monthly Report', body: goodBody }), senderKey)
    const res = await post(raw)
    t.equal(res.statusCode, 200)
    const answer = res.json()
    t.match(answer, { status: 'accepted', launch: { state: 'failed', reason: /no Orchestrator connection is configured/ } })
    const row = await messageRow(answer.message)
    t.match(row, { status: 'accepted', door: 'mime', from_address: 'anna@sender.example', sender_id: setup.senderId, robot_id: setup.robotId, subject: 'Re: Monthly Report', raw: null })
    t.match(row.body, /^period = 2026-10/)
    t.match(row.auth_verdict, { pass: true, policy: 'dmarc', dmarc: 'pass' })
    const launch = await db.selectFrom('launches').selectAll().where('message_id', '=', answer.message).executeTakeFirstOrThrow()
    t.equal(launch.id, answer.launch.id)
    t.equal(launch.state, 'failed', 'without an Orchestrator connection the launch fails, and says why')
    t.same(launch.plan, {
      arguments: { period: '2026-10' },
      functions: [
        { name: 'ExtractData', args: { region: 'North', currency: 'RUB' } },
        { name: 'BuildReport', args: {} },
        { name: 'SendReport', args: { to: 'finance@acme.example, boss@acme.example' } }
      ]
    })
    const listed = (await setup.api('GET', '/api/v1/messages')).json().items
    t.match(listed[0], { id: answer.message, door: 'mime', status: 'accepted', fromAddress: 'anna@sender.example', authVerdict: { pass: true } })
  })

  t.test('the same message delivered again is a duplicate and launches nothing more', async (t) => {
    const raw = await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody, messageId: '<again@sender.example>' }), senderKey)
    const first = (await post(raw)).json()
    const second = (await post(raw)).json()
    t.equal(first.status, 'accepted')
    t.same(second, { message: first.message, status: 'duplicate', reason: 'this message was already received' })
    t.equal((await db.selectFrom('launches').where('message_id', '=', first.message).selectAll().execute()).length, 1)
  })

  t.test('ten concurrent deliveries of one message store it once and launch it once', async (t) => {
    const raw = await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody, messageId: '<concurrent@sender.example>' }), senderKey)
    const answers = (await Promise.all(Array.from({ length: 10 }, async () => await post(raw)))).map((r) => r.json())
    t.equal(answers.filter((a) => a.status === 'accepted').length, 1)
    t.equal(answers.filter((a) => a.status === 'duplicate').length, 9)
    t.equal(new Set(answers.map((a) => a.message)).size, 1)
    const messages = await db.selectFrom('messages').select('id').where('dedupe_key', '=', '<concurrent@sender.example>').execute()
    t.equal(messages.length, 1)
    t.equal((await db.selectFrom('launches').where('message_id', '=', messages[0]?.id ?? '').selectAll().execute()).length, 1)
  })

  t.test('a message without Message-ID is deduplicated by its bytes', async (t) => {
    const raw = await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody, messageId: null }), senderKey)
    const first = (await post(raw)).json()
    t.equal((await post(raw)).json().status, 'duplicate')
    t.match((await messageRow(first.message)).dedupe_key, /^sha256:[0-9a-f]{64}$/)
  })

  const rejections: Array<[string, () => Promise<Buffer | string>, RegExp]> = [
    ['an unsigned message', async () => buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody }), /^sender authentication failed: could not verify that the message is from sender\.example: the message has no DKIM signature; DMARC fail/],
    ['a From forged with a valid signature of another domain', async () => await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody }), attackerKey), /^sender authentication failed: .*attacker\.example pass \(not aligned\)/],
    ['a body changed after signing', async () => Buffer.from((await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody }), senderKey)).toString('utf8').replace('North', 'South')), /^sender authentication failed: .*sender\.example (fail|neutral)/],
    ['two From mailboxes', async () => await signMessage(buildMessage({ from: 'anna@sender.example, boss@sender.example', subject: 'Monthly Report', body: goodBody }), senderKey), /^ambiguous sender: the From header names more than one mailbox/],
    ['a group in From', async () => await signMessage(buildMessage({ from: 'Team: anna@sender.example;', subject: 'Monthly Report', body: goodBody }), senderKey), /^ambiguous sender: the From header is a group/],
    ['a display name that shows another address', async () => await signMessage(buildMessage({ from: '"boss@acme.example" <anna@sender.example>', subject: 'Monthly Report', body: goodBody }), senderKey), /^ambiguous sender: the From display name shows boss@acme\.example/],
    ['two From headers', async () => await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody, headers: { From: 'boss@sender.example' } }), senderKey), /^ambiguous sender: the message has more than one From header/]
  ]
  for (const [name, make, reason] of rejections) {
    t.test(`${name} is rejected and keeps metadata only`, async (t) => {
      const answer = (await post(await make())).json()
      t.equal(answer.status, 'rejected')
      t.match(answer.reason, reason)
      t.notOk(answer.launch)
      const row = await messageRow(answer.message)
      t.match(row, { status: 'rejected', subject: null, body: null })
      t.ok(row.raw !== null, 'the raw copy is kept for the replay window (MAILRUN_REPLAY_HOURS), never shown')
      t.match(row.raw_sha256, /^[0-9a-f]{64}$/, 'the hash is kept')
      t.equal((await db.selectFrom('launches').where('message_id', '=', answer.message).selectAll().execute()).length, 0)
    })
  }

  t.test('an authenticated but unknown sender is rejected with metadata only', async (t) => {
    const answer = (await post(await signMessage(buildMessage({ from: 'Mallory <mallory@stranger.example>', subject: 'Monthly Report', body: 'Secret body text' }), strangerKey))).json()
    t.match(answer, { status: 'rejected', reason: 'unknown sender: not on the allow-list of this tenant' })
    const row = await messageRow(answer.message)
    t.match(row, { from_address: 'mallory@stranger.example', sender_id: null, subject: null, body: null })
    t.notOk(JSON.stringify({ ...row, raw: null }).includes('Secret body text'), 'nothing shown holds the text (the raw copy waits for a replay)')
  })

  const machine: Array<[string, Record<string, string>, RegExp]> = [
    ['an auto-reply', { 'Auto-Submitted': 'auto-replied' }, /Auto-Submitted: auto-replied/],
    ['bulk mail', { Precedence: 'bulk' }, /Precedence: bulk/],
    ['list mail', { 'List-Id': '<team.lists.sender.example>' }, /List-Id/],
    ['a bounce with an empty return path', { 'Return-Path': '<>' }, /empty return path/]
  ]
  for (const [name, headers, reason] of machine) {
    t.test(`${name} never launches anything`, async (t) => {
      const answer = (await post(await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody, headers }), senderKey))).json()
      t.equal(answer.status, 'ignored')
      t.match(answer.reason, reason)
      t.notOk(answer.launch)
    })
  }
  t.test('mail from MAILER-DAEMON never launches anything', async (t) => {
    const daemonKey = dkimKey('mx.sender.example')
    const answer = (await post(buildMessage({ from: 'MAILER-DAEMON@mx.sender.example', subject: 'Monthly Report', body: goodBody }))).json()
    t.match(answer, { status: 'ignored', reason: /MAILER-DAEMON/ })
    t.ok(daemonKey)
  })

  t.test('a command with mistakes is rejected with every problem, its line and text', async (t) => {
    const body = 'perod = 2026-10\nExtractData: currency = RUB\nBuild Report\nSendReprt: to = x'
    const answer = (await post(await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body }), senderKey))).json()
    t.equal(answer.status, 'rejected')
    t.equal(answer.reason, 'the email has 5 problems')
    t.match(answer.problems, [
      { line: 1, text: 'perod = 2026-10', message: /has no input "perod"; it takes: period \(text, required\)/ },
      { line: 2, text: 'ExtractData: currency = RUB', message: /The function ExtractData needs the input "region"/ },
      { line: 3, text: 'Build Report', message: /not a valid function name/ },
      { line: 4, text: 'SendReprt: to = x', message: /"SendReprt" is not a function of Monthly Report; it has: ExtractData, BuildReport, SendReport/ },
      { message: /needs the input "period"/ }
    ])
    const row = await messageRow(answer.message)
    t.equal(row.problems.length, 5, 'the problems are recorded for the reply')
  })

  t.test('an unknown robot, or one the sender may not run, is rejected', async (t) => {
    const unknown = (await post(await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Payroll', body: 'Run' }), senderKey))).json()
    t.match(unknown, { status: 'rejected', reason: 'unknown robot "Payroll"' })
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Payroll' })).statusCode, 201)
    const forbidden = (await post(await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'payroll', body: 'Run' }), senderKey))).json()
    t.match(forbidden, { status: 'rejected', reason: 'not allowed to run "Payroll"' })
  })

  t.test('a help request is accepted without launching anything', async (t) => {
    const answer = (await post(await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'help', body: '' }), senderKey))).json()
    t.match(answer, { status: 'accepted', reason: 'help requested' })
    t.notOk(answer.launch)
  })

  t.test('application/octet-stream and text/plain bodies are read as the raw message', async (t) => {
    for (const type of ['application/octet-stream', 'text/plain']) {
      const answer = (await post(await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody }), senderKey), type)).json()
      t.equal(answer.status, 'accepted', type)
    }
  })

  t.test('an unknown ingress token answers 404 and says where to find the right URL', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/inbound/not-a-token/mime', headers: { 'content-type': 'message/rfc822' }, payload: 'From: a@b.c\r\n\r\nx' })
    t.equal(res.statusCode, 404)
    t.match(res.json().message, /unknown ingress token/)
  })

  t.test('an empty body answers 400', async (t) => {
    const res = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: '' })
    t.equal(res.statusCode, 400)
  })
})

t.test('a message over MAILRUN_MAX_MESSAGE_BYTES answers 413 and stores nothing', async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns, env: { MAILRUN_MAX_MESSAGE_BYTES: '20000' } })
  const setup = await setUpMailbox(app)
  const raw = buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'x'.repeat(30000) })
  const res = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { code: 'MAILRUN_ERR_PAYLOAD_TOO_LARGE', message: /larger than 20000 bytes \(MAILRUN_MAX_MESSAGE_BYTES\)/ })
  t.equal((await database.db.selectFrom('messages').selectAll().execute()).length, 0)
})

t.test('when the database is down the door answers 503, so the provider retries', async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const setup = await setUpMailbox(app)
  await database.close()
  const res = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: goodBody }) })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '60')
  t.match(res.json(), { statusCode: 503, code: 'MAILRUN_ERR_NOT_STORED', message: /retry later/ })
})
