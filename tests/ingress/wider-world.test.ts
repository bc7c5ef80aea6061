import iconv from 'iconv-lite'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { dkimKey, fakeDns, signMessage } from '../support/mail.js'

// Addresses and headers from the wider world: internationalised addresses (RFC 6532), 8-bit
// headers in a legacy charset, and lines that end in a bare CR.

const idnKey = dkimKey('xn--80a1acny.xn--p1ai')
const dns = fakeDns([idnKey], { 'xn--80a1acny.xn--p1ai': 'v=DMARC1; p=reject' })

t.test(`internationalised addresses are accepted and matched in either spelling, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const { api } = await newTenant(app, 'Почта', 3, ['xn--80a1acny.xn--p1ai'])
  const ivan = await api('POST', '/api/v1/senders', { fullName: 'Иван', email: 'ivan@почта.рф' })
  t.equal(ivan.statusCode, 201, 'ivan@почта.рф is a sender')
  t.equal(ivan.json().email, 'ivan@почта.рф')
  const jdoe = await api('POST', '/api/v1/senders', { fullName: 'J. Döe', email: 'jdöe@mächine.example' })
  t.equal(jdoe.statusCode, 201, 'jdöe@mächine.example is a sender')
  const again = await api('POST', '/api/v1/senders', { fullName: 'Ivan again', email: 'IVAN@XN--80A1ACNY.XN--P1AI' })
  t.equal(again.statusCode, 409, 'the A-label spelling of the same address is the same sender')
  t.equal((await api('POST', '/api/v1/senders', { fullName: 'Nobody', email: 'not an address' })).statusCode, 400)
  t.equal((await api('POST', '/api/v1/senders', { fullName: 'Nobody', email: 'a@b' })).statusCode, 400)
  const mailbox = await api('POST', '/api/v1/mailboxes', { address: 'роботы@почта.рф', senderAuth: 'off' })
  t.equal(mailbox.statusCode, 201, 'a mailbox address may be internationalised too')
  t.equal((await api('POST', '/api/v1/robots', { name: 'Отчёт', allowAllSenders: true })).statusCode, 201)
  const signed = await api('POST', '/api/v1/mailboxes', { address: 'signed@почта.рф' })
  t.equal(signed.statusCode, 201)

  const post = async (token: string, raw: Buffer) => (await app.inject({ method: 'POST', url: `/inbound/${token}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
  const message = (from: string, id: string): Buffer => Buffer.from([
    `From: ${from}`, 'To: роботы@почта.рф', 'Subject: Отчёт', `Message-ID: <${id}@почта.рф>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Run', ''
  ].join('\r\n'))
  t.match(await post(mailbox.json().ingressToken, message('Иван <ivan@почта.рф>', 'u-label')), { status: 'accepted' }, 'From in Unicode (RFC 6532)')
  t.match(await post(mailbox.json().ingressToken, message('Ivan <ivan@xn--80a1acny.xn--p1ai>', 'a-label')), { status: 'accepted' }, 'From in A-labels matches the same sender')
  t.match(await post(mailbox.json().ingressToken, message('jdo\u0308e@mächine.example', 'nfd')), { status: 'accepted' }, 'a decomposed ö in the local part matches after normalisation')

  // A sender saved with an A-label domain (all the API took before) is still recognised.
  const tenantId = (await database.db.selectFrom('senders').select('tenant_id').where('id', '=', ivan.json().id).executeTakeFirstOrThrow()).tenant_id
  await database.db.insertInto('senders').values({ tenant_id: tenantId, full_name: 'Legacy', email: 'olga@xn--80a1acny.xn--p1ai' }).execute()
  t.match(await post(mailbox.json().ingressToken, message('Ольга <olga@почта.рф>', 'legacy')), { status: 'accepted' }, 'a sender stored in A-labels matches a Unicode From')

  const dkimSigned = await signMessage(message('Иван <ivan@почта.рф>', 'dkim'), idnKey)
  const verdict = await post(signed.json().ingressToken, dkimSigned)
  t.match(verdict, { status: 'accepted' }, 'DKIM and DMARC are checked on the A-label domain')
  t.ok(dns.queries.some((q) => q === 'TXT _dmarc.xn--80a1acny.xn--p1ai'), 'the DMARC record was looked up by its A-label')
})

t.test(`raw 8-bit header bytes are read in the message's charset; bare CR line ends get their own reason, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const { api } = await newTenant(app, 'Legacy', 3, ['acme.example'])
  const mailbox = (await api('POST', '/api/v1/mailboxes', { address: 'robots@acme.example', senderAuth: 'off' })).json()
  t.equal((await api('POST', '/api/v1/senders', { fullName: 'Anna', email: 'anna@sender.example' })).statusCode, 201)
  t.equal((await api('POST', '/api/v1/robots', { name: 'Отчёт', allowAllSenders: true })).statusCode, 201)
  const post = async (raw: Buffer) => (await app.inject({ method: 'POST', url: `/inbound/${mailbox.ingressToken as string}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()

  const cp1251 = Buffer.concat([
    Buffer.from('From: anna@sender.example\r\nTo: robots@acme.example\r\nSubject: '), iconv.encode('Отчёт', 'win1251'),
    Buffer.from('\r\nMessage-ID: <cp1251-header@sender.example>\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), iconv.encode('период = 2026-11', 'win1251'), Buffer.from('\r\n')
  ])
  const answer = await post(cp1251)
  t.match(answer, { status: 'accepted' }, 'the windows-1251 subject names the robot')
  const row = await database.db.selectFrom('messages').select('subject').where('id', '=', answer.message).executeTakeFirstOrThrow()
  t.equal(row.subject, 'Отчёт', 'and is stored as Cyrillic, not U+FFFD')

  const bareCr = Buffer.from('From: anna@sender.example\rTo: robots@acme.example\rSubject: Report\rMessage-ID: <cr@sender.example>\r\rperiod = 2026-11\r')
  const refused = await post(bareCr)
  t.match(refused, { status: 'rejected', reason: /bare CR .* must end with CRLF/ })
  t.notMatch(refused.reason, /group/)
})
