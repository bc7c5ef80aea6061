import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { mailgunSignature, multipart } from '../support/forms.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

const KEY = 'mailgun-key-across-doors'
const senderKey = dkimKey('sender.example')
const dns = fakeDns([senderKey], { 'sender.example': 'v=DMARC1; p=reject' })

t.test(`on ${testDatabaseKind}, one message through three doors is stored once and launches once`, async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const setup = await setUpMailbox(app, { mailbox: { mailgunSigningKey: KEY } })
  const raw = await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: '<three-doors@sender.example>' }), senderKey)
  const viaMime = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
  const mg = multipart([...mailgunSignature(KEY), ['body-mime', raw]])
  const viaMailgun = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mailgun`, headers: { 'content-type': mg.contentType }, payload: mg.body })).json()
  const sg = multipart([['email', raw]])
  const viaSendgrid = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/sendgrid`, headers: { 'content-type': sg.contentType }, payload: sg.body })).json()
  t.equal(viaMime.status, 'accepted')
  t.same([viaMailgun.status, viaSendgrid.status], ['duplicate', 'duplicate'])
  t.same([viaMailgun.message, viaSendgrid.message], [viaMime.message, viaMime.message])
  t.equal((await database.db.selectFrom('launches').selectAll().execute()).length, 1)
  const counted = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(counted, /mailrun_messages_total\{door="mime",status="accepted"\} 1/)
  t.match(counted, /mailrun_messages_total\{door="mailgun",status="duplicate"\} 1/)
})

t.test('under the provider policy, raw mail is trusted on the Authentication-Results of the named server only', async (t) => {
  const { app } = await buildTestApp(t, { dnsResolver: dns })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'provider', trustedAuthservId: 'mx.acme.example' } })
  const post = async (headers: Record<string, string>, id: string) => (await app.inject({
    method: 'POST',
    url: `/inbound/${setup.ingressToken}/mime`,
    headers: { 'content-type': 'message/rfc822' },
    payload: buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: `<${id}@sender.example>`, headers })
  })).json()
  t.match(await post({ 'Authentication-Results': 'mx.acme.example; dkim=pass header.d=sender.example; dmarc=pass header.from=sender.example' }, 'ar-pass'), { status: 'accepted' })
  t.match(await post({ 'Authentication-Results': 'mx.attacker.example; dmarc=pass header.from=sender.example' }, 'ar-other'), { status: 'rejected', reason: /no Authentication-Results header from mx\.acme\.example/ })
  t.match(await post({ 'Authentication-Results': 'mx.acme.example; dkim=pass header.d=mailer.example; dmarc=fail header.from=sender.example' }, 'ar-fail'), { status: 'rejected', reason: /reports no DMARC or aligned DKIM pass for sender\.example/ })
})

t.test('a rejected message shows its problems in the messages API', async (t) => {
  const { app } = await buildTestApp(t, { dnsResolver: dns })
  const setup = await setUpMailbox(app)
  const raw = await signMessage(buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-10\nBuild Report' }), senderKey)
  const answer = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
  const listed = (await setup.api('GET', '/api/v1/messages?status=rejected')).json().items
  t.match(listed, [{ id: answer.message, status: 'rejected', reason: 'the email has 1 problem', problems: [{ line: 2, text: 'Build Report', message: /not a valid function name/ }] }])
  // A known sender's words are kept, so the console can show what the refused command said.
  t.match((await setup.api('GET', `/api/v1/messages/${answer.message}`)).json(), { body: 'period = 2026-10\nBuild Report', subject: 'Monthly Report', launchId: null })
})

t.test('under the provider policy only the topmost header of the trusted server counts, and the mailbox warns why', async (t) => {
  const { app } = await buildTestApp(t, { dnsResolver: dns })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'provider', trustedAuthservId: 'mx.acme.example' } })
  // What arrives at mailrun: the MTA prepended its own verdict above whatever the sender wrote.
  const relayed = (mta: string, forged: string, id: string): string => `Authentication-Results: mx.acme.example; ${mta}\r\n` +
    buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: `<${id}@sender.example>`, headers: { 'Authentication-Results': `mx.acme.example; ${forged}` } })
  const post = async (raw: string) => (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
  t.match(await post(relayed('dkim=none; dmarc=fail header.from=sender.example', 'dkim=pass header.d=sender.example; dmarc=pass header.from=sender.example', 'forged-below')),
    { status: 'rejected', reason: /mx\.acme\.example reports no DMARC or aligned DKIM pass/ }, "a sender's forged pass below the MTA's fail is not believed")
  t.match(await post(relayed('dkim=pass header.d=sender.example; dmarc=pass header.from=sender.example', 'dmarc=fail header.from=sender.example', 'genuine-top')),
    { status: 'accepted' }, "the MTA's own verdict on top is")
  const mailbox = (await setup.api('GET', `/api/v1/mailboxes/${setup.mailboxId}`)).json()
  t.match(mailbox.warnings, [/trusts the topmost Authentication-Results header from mx\.acme\.example.*a sender can forge "dmarc=pass"/])
})
