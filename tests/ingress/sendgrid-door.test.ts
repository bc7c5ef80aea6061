import t from 'tap'
import { parseSendgridDkim } from '../../src/ingress/sendgrid.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { capturedRequest, fixture, multipart, type Field } from '../support/forms.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

const senderKey = dkimKey('sender.example')
const dns = fakeDns([senderKey], { 'sender.example': 'v=DMARC1; p=reject' })

t.test("SendGrid's dkim field is read although it is not JSON", async (t) => {
  t.same(parseSendgridDkim('{@sendgrid.com : pass}'), [{ domain: 'sendgrid.com', result: 'pass' }])
  t.same(parseSendgridDkim('{@a.example : pass, @B.example : fail}'), [{ domain: 'a.example', result: 'pass' }, { domain: 'b.example', result: 'fail' }])
  t.same(parseSendgridDkim('none'), [])
})

t.test(`the SendGrid door on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const db = database.db
  const dmarc = await setUpMailbox(app, { mailbox: { sendgridBasicAuth: { username: 'parse', password: 'parse-password-1' } } })
  const provider = await setUpMailbox(app, { tenant: 'Provider', address: 'robots@provider.example', mailbox: { senderAuth: 'provider' } })
  const auth = `Basic ${Buffer.from('parse:parse-password-1').toString('base64')}`
  const post = async (token: string, fields: Field[], authorization?: string) => {
    const { body, contentType } = multipart(fields, 'xYzZY')
    return await app.inject({ method: 'POST', url: `/inbound/${token}/sendgrid`, headers: { 'content-type': contentType, ...(authorization !== undefined ? { authorization } : {}) }, payload: body })
  }

  t.test('the raw option (email field) keeps the bytes: DKIM verifies and the command is accepted', async (t) => {
    const raw = await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport' }), senderKey)
    const res = await post(dmarc.ingressToken, [['to', 'robots@acme.example'], ['email', raw], ['envelope', '{"to":["robots@acme.example"],"from":"anna@sender.example"}'], ['dkim', '{@sender.example : pass}'], ['SPF', 'pass']], auth)
    t.equal(res.statusCode, 200)
    t.match(res.json(), { status: 'accepted', launch: { state: 'failed', reason: /no Orchestrator connection is configured/ } })
  })

  t.test('basic auth, when set on the mailbox, is required and checked', async (t) => {
    const raw = buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'BuildReport' })
    for (const authorization of [undefined, `Basic ${Buffer.from('parse:wrong').toString('base64')}`, 'Bearer x']) {
      const res = await post(dmarc.ingressToken, [['email', raw]], authorization)
      t.equal(res.statusCode, 401)
      t.match(res.json().message, /wrong or missing basic auth/)
    }
  })

  t.test('parsed fields in windows-1252 are decoded by the charsets field', async (t) => {
    t.equal((await provider.api('POST', '/api/v1/senders', { fullName: 'James McKinney', email: 'james@opennorth.ca' })).statusCode, 201)
    t.equal((await provider.api('POST', '/api/v1/robots', { name: 'Hello €', allowAllSenders: true, functions: [{ name: 'Run' }] })).statusCode, 201)
    const captured = capturedRequest('providers/sendgrid/multimail_parse_default_windows1252.http')
    const res = await app.inject({ method: 'POST', url: `/inbound/${provider.ingressToken}/sendgrid`, headers: { 'content-type': captured.headers['content-type'] ?? '' }, payload: captured.body })
    t.equal(res.statusCode, 200)
    const answer = res.json()
    // The subject "Hello €" found the robot; the body "World €" (0x80 in windows-1252) is not a valid
    // statement, and the problem quotes it decoded.
    t.match(answer, { status: 'rejected', problems: [{ line: 1, text: 'World €', message: /"World €" is not a valid function name/ }] })
    const row = await db.selectFrom('messages').selectAll().where('id', '=', answer.message).executeTakeFirstOrThrow()
    const robot = (await provider.api('GET', '/api/v1/robots')).json().items.find((r: { name: string }) => r.name === 'Hello €')
    t.match(row, { door: 'sendgrid', from_address: 'james@opennorth.ca', robot_id: robot.id })
    t.match(row.auth_verdict, { pass: true, policy: 'provider', detail: 'sendgrid says SPF pass for opennorth.ca, aligned with opennorth.ca' })
  })

  t.test('subjects in cp850 encoded words and bodies in windows-1252 read right', async (t) => {
    t.equal((await provider.api('POST', '/api/v1/senders', { fullName: 'Opérateur', email: 'sender@example.com' })).statusCode, 201)
    const payload = fixture('providers/sendgrid/anymail_parse_charsets_multipart.body')
    const res = await app.inject({ method: 'POST', url: `/inbound/${provider.ingressToken}/sendgrid`, headers: { 'content-type': 'multipart/form-data; boundary=xYzZY' }, payload })
    t.equal(res.statusCode, 200)
    // No SPF or envelope in this post: the provider policy cannot pass it, and says why.
    t.match(res.json(), { status: 'rejected', reason: /sendgrid reports SPF none/ })
  })

  t.test('an unknown ingress token is answered 200 and ignored: SendGrid would drop mail on a 4xx anyway', async (t) => {
    const res = await post('no-such-token', [['email', 'From: a@b.example\r\n\r\nx']])
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ignored', reason: 'unknown ingress token' })
  })

  t.test('the captured default multipart post is read and stored', async (t) => {
    const captured = capturedRequest('providers/sendgrid/multimail_parse_default_multipart_valid.http')
    const res = await app.inject({ method: 'POST', url: `/inbound/${provider.ingressToken}/sendgrid`, headers: { 'content-type': captured.headers['content-type'] ?? '' }, payload: captured.body })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { status: 'rejected' })
  })
})

t.test('a SendGrid post over MAILRUN_MAX_MESSAGE_BYTES answers 413 and stores nothing', async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns, env: { MAILRUN_MAX_MESSAGE_BYTES: '20000' } })
  const setup = await setUpMailbox(app)
  const { body, contentType } = multipart([['email', buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'z'.repeat(40000) })]])
  const res = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/sendgrid`, headers: { 'content-type': contentType }, payload: body })
  t.equal(res.statusCode, 413)
  t.match(res.json().message, /larger than 20000 bytes \(MAILRUN_MAX_MESSAGE_BYTES\)/)
  t.equal((await database.db.selectFrom('messages').selectAll().execute()).length, 0)
})
