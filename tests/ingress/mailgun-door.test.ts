import iconv from 'iconv-lite'
import t from 'tap'
import { FormFields } from '../../src/ingress/form-fields.js'
import { verifyMailgunSignature } from '../../src/ingress/mailgun.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { capturedRequest, fixture, mailgunSignature, multipart, urlencoded, type Field } from '../support/forms.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

const KEY = 'mailgun-signing-key-for-tests'
const senderKey = dkimKey('sender.example')
const dns = fakeDns([senderKey], { 'sender.example': 'v=DMARC1; p=reject' })

/** A DKIM-signed message whose body is 8-bit windows-1251: any byte changed in transit breaks it. */
async function cyrillicMessage (messageId: string): Promise<Buffer> {
  const head = buildMessage({ from: 'Анна <anna@sender.example>', subject: '=?windows-1251?B?' + iconv.encode('Отчёт', 'win1251').toString('base64') + '?=', body: '', messageId, contentType: 'text/plain; charset=windows-1251' })
  const raw = Buffer.concat([Buffer.from(head.replace(/\r\n\r\n\r\n$/, '\r\n\r\n'), 'latin1'), iconv.encode('период = 2026-10\r\nВыгрузка: регион = Север, валюта = "руб."\r\n', 'win1251')])
  return await signMessage(raw, senderKey)
}

t.test('known Mailgun signature vectors verify, in constant time, within their window', async (t) => {
  const vectors = JSON.parse(fixture('providers/test_vectors.json').toString('utf8')).mailgun_hmac_sha256_hex as Array<{ key: string, timestamp: string, token: string, signature: string }>
  for (const v of vectors) {
    const fields = new FormFields()
    for (const [name, value] of [['timestamp', v.timestamp], ['token', v.token], ['signature', v.signature]] as const) fields.add(name, Buffer.from(value))
    t.match(verifyMailgunSignature(fields, v.key, 600, Number(v.timestamp) * 1000 + 1000), { ok: true, token: v.token }, v.key)
    t.match(verifyMailgunSignature(fields, `${v.key}x`, 600, Number(v.timestamp) * 1000), { ok: false, reason: /does not match/ })
    t.match(verifyMailgunSignature(fields, v.key, 600, (Number(v.timestamp) + 601) * 1000), { ok: false, reason: /outside the accepted window/ })
  }
})

t.test(`the Mailgun door on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const db = database.db
  const acme = await setUpMailbox(app, { mailbox: { mailgunSigningKey: KEY } })
  t.equal((await acme.api('POST', '/api/v1/robots', { name: 'Отчёт', allowAllSenders: true })).statusCode, 201)
  const url = `/inbound/${acme.ingressToken}/mailgun`
  const postForm = async (fields: Field[], form: 'multipart' | 'urlencoded' = 'multipart', target = url) => {
    if (form === 'urlencoded') return await app.inject({ method: 'POST', url: target, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: urlencoded(fields) })
    const { body, contentType } = multipart(fields)
    return await app.inject({ method: 'POST', url: target, headers: { 'content-type': contentType }, payload: body })
  }

  for (const form of ['multipart', 'urlencoded'] as const) {
    t.test(`body-mime as ${form}: the 8-bit bytes arrive intact (DKIM verifies) and Cyrillic reads right`, async (t) => {
      const raw = await cyrillicMessage(`<cp1251-${form}@sender.example>`)
      const res = await postForm([...mailgunSignature(KEY), ['recipient', 'robots@acme.example'], ['sender', 'anna@sender.example'], ['body-mime', raw]], form)
      t.equal(res.statusCode, 200)
      const answer = res.json()
      t.match(answer, { status: 'accepted', launch: { state: 'failed', reason: /no Orchestrator connection is configured/ } })
      const launch = await db.selectFrom('launches').select('plan').where('message_id', '=', answer.message).executeTakeFirstOrThrow()
      t.same(launch.plan, { arguments: { период: '2026-10' }, functions: [{ name: 'Выгрузка', args: { регион: 'Север', валюта: 'руб.' } }] })
      const row = await db.selectFrom('messages').select(['door', 'subject']).where('id', '=', answer.message).executeTakeFirstOrThrow()
      t.same(row, { door: 'mailgun', subject: 'Отчёт' })
    })
  }

  t.test('parsed fields under the dmarc policy are stored and rejected with what to change', async (t) => {
    const headers = JSON.stringify([['From', 'anna@sender.example'], ['Subject', 'Monthly Report'], ['Message-Id', '<parsed-dmarc@sender.example>']])
    const answer = (await postForm([...mailgunSignature(KEY), ['sender', 'anna@sender.example'], ['from', 'anna@sender.example'], ['subject', 'Monthly Report'], ['message-headers', headers], ['body-plain', 'period = 2026-10']])).json()
    t.match(answer, { status: 'rejected', reason: /parsed fields, not the raw message, so DKIM cannot be checked: post the raw message/ })
  })

  t.test('a bad signature, a stale or future timestamp, and a missing signature answer 401', async (t) => {
    const raw = await cyrillicMessage('<sig@sender.example>')
    const cases: Array<[Field[], RegExp]> = [
      [mailgunSignature('another-key'), /does not match this mailbox signing key/],
      [mailgunSignature(KEY, Math.floor(Date.now() / 1000) - 10 * 3600), /outside the accepted window/],
      [mailgunSignature(KEY, Math.floor(Date.now() / 1000) + 3600), /outside the accepted window/],
      [[], /has no Mailgun signature/]
    ]
    for (const [signature, reason] of cases) {
      const res = await postForm([...signature, ['body-mime', raw]])
      t.equal(res.statusCode, 401)
      t.match(res.json().message, reason)
    }
    t.equal(await db.selectFrom('messages').select('id').where('dedupe_key', '=', '<sig@sender.example>').executeTakeFirst(), undefined, 'nothing stored')
  })

  t.test("a retry that reuses the message's token is a duplicate; the token on another body is a replay", async (t) => {
    const signature = mailgunSignature(KEY)
    const first = await postForm([...signature, ['body-mime', await cyrillicMessage('<token-first@sender.example>')]])
    t.equal(first.json().status, 'accepted')
    const token = signature[1]?.[1] as string
    t.match(await db.selectFrom('mailgun_tokens').selectAll().where('token', '=', token).executeTakeFirst(), { message_id: first.json().message }, 'the token is recorded with the message it authenticated')
    const retry = await postForm([...signature, ['body-mime', await cyrillicMessage('<token-first@sender.example>')]])
    t.same(retry.json(), { message: first.json().message, status: 'duplicate', reason: 'this message was already received' })
    const replay = await postForm([...signature, ['body-mime', await cyrillicMessage('<token-replay@sender.example>')]])
    t.equal(replay.statusCode, 401)
    t.match(replay.json().message, /already used for another message \(replay\)/)
  })

  t.test('the captured Mailgun posts of another mail system are read and stored', async (t) => {
    const valid = capturedRequest('providers/mailgun/multimail_forward_mime_urlencoded_valid.http')
    const resigned = Buffer.from(valid.body.toString('latin1').replace(/(^|&)(timestamp|token|signature)=[^&]*/g, ''), 'latin1')
    const payload = Buffer.concat([urlencoded(mailgunSignature(KEY)), Buffer.from('&'), resigned])
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': valid.headers['content-type'] ?? '' }, payload })
    t.equal(res.statusCode, 200)
    const row = await db.selectFrom('messages').selectAll().where('id', '=', res.json().message).executeTakeFirstOrThrow()
    t.match(row, { door: 'mailgun', dedupe_key: '<99CF7D8C-FCD4-443F-8E04-69C4E470D18F@opennorth.ca>', status: 'rejected' })

    const badsig = capturedRequest('providers/mailgun/multimail_forward_parsed_urlencoded_badsig.http')
    const bad = await app.inject({ method: 'POST', url, headers: { 'content-type': badsig.headers['content-type'] ?? '' }, payload: badsig.body })
    t.equal(bad.statusCode, 401)
  })

  t.test('an unknown ingress token answers 406 so Mailgun stops retrying', async (t) => {
    const res = await postForm([...mailgunSignature(KEY), ['body-mime', 'x']], 'multipart', '/inbound/no-such-token/mailgun')
    t.equal(res.statusCode, 406)
  })

  t.test('a field larger than MAILRUN_MAX_MESSAGE_BYTES answers 413 instead of being cut short', async (t) => {
    const small = await buildTestApp(t, { dnsResolver: dns, env: { MAILRUN_MAX_MESSAGE_BYTES: '20000' } })
    const setup = await setUpMailbox(small.app, { mailbox: { mailgunSigningKey: KEY } })
    const big = buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'y'.repeat(40000) })
    for (const form of ['multipart', 'urlencoded'] as const) {
      const fields: Field[] = [...mailgunSignature(KEY), ['body-mime', big]]
      const encoded = multipart(fields)
      const res = form === 'multipart'
        ? await small.app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mailgun`, headers: { 'content-type': encoded.contentType }, payload: encoded.body })
        : await small.app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mailgun`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: urlencoded(fields) })
      t.equal(res.statusCode, 413, form)
      t.match(res.json().message, /20000 bytes \(MAILRUN_MAX_MESSAGE_BYTES\)/)
    }
    t.equal((await small.database.db.selectFrom('messages').selectAll().execute()).length, 0)
  })

  t.test('a mailbox without a signing key refuses Mailgun posts with what to set', async (t) => {
    const plain = await setUpMailbox(app, { tenant: 'NoKey', address: 'nokey@nokey.example' })
    const res = await postForm([...mailgunSignature(KEY), ['body-mime', 'x']], 'multipart', `/inbound/${plain.ingressToken}/mailgun`)
    t.equal(res.statusCode, 401)
    t.match(res.json().message, /set mailgunSigningKey/)
  })

  t.test('an inactive mailbox answers 406 and records the message as ignored', async (t) => {
    const quiet = await setUpMailbox(app, { tenant: 'Quiet', address: 'quiet@quiet.example', mailbox: { mailgunSigningKey: KEY, active: false } })
    const res = await postForm([...mailgunSignature(KEY), ['body-mime', await cyrillicMessage('<inactive@sender.example>')]], 'multipart', `/inbound/${quiet.ingressToken}/mailgun`)
    t.equal(res.statusCode, 406)
    t.match(await db.selectFrom('messages').selectAll().where('mailbox_id', '=', quiet.mailboxId).executeTakeFirst(), { status: 'ignored', reason: 'the mailbox is inactive' })
  })
})

t.test('parsed Mailgun fields under the provider policy trust Mailgun verdicts for an aligned signature', async (t) => {
  const { app, database } = await buildTestApp(t, { dnsResolver: dns })
  const setup = await setUpMailbox(app, { mailbox: { mailgunSigningKey: KEY, senderAuth: 'provider' } })
  const post = async (fields: Field[]) => {
    const { body, contentType } = multipart([...mailgunSignature(KEY), ...fields])
    return (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mailgun`, headers: { 'content-type': contentType }, payload: body })).json()
  }
  const headers = (id: string, dkimDomain: string) => JSON.stringify([
    ['X-Mailgun-Dkim-Check-Result', 'Pass'], ['X-Mailgun-Spf', 'Neutral'], ['Dkim-Signature', `v=1; a=rsa-sha256; d=${dkimDomain}; s=x; b=abc`],
    ['From', 'Anna Petrova <anna@sender.example>'], ['Subject', 'Re: Monthly Report'], ['Message-Id', id]
  ])
  const accepted = await post([['sender', 'bounce@mailer.example'], ['message-headers', headers('<provider-ok@sender.example>', 'sender.example')], ['body-plain', 'period = 2026-10\nBuildReport\n\nOn Mon, Robot wrote:\n> old']])
  t.match(accepted, { status: 'accepted', launch: { state: 'failed', reason: /no Orchestrator connection is configured/ } })
  const launch = await database.db.selectFrom('launches').select('plan').where('message_id', '=', accepted.message).executeTakeFirstOrThrow()
  t.same(launch.plan, { arguments: { period: '2026-10' }, functions: [{ name: 'BuildReport', args: {} }] })
  const verdict = await database.db.selectFrom('messages').select('auth_verdict').where('id', '=', accepted.message).executeTakeFirstOrThrow()
  t.match(verdict.auth_verdict, { pass: true, policy: 'provider', detail: 'mailgun says DKIM pass; the signature is by sender.example' })

  const foreign = await post([['sender', 'bounce@mailer.example'], ['message-headers', headers('<provider-foreign@sender.example>', 'mailer.example')], ['body-plain', 'BuildReport']])
  t.match(foreign, { status: 'rejected', reason: /sender authentication failed: mailgun reports SPF Neutral, DKIM Pass: nothing aligned with sender\.example passed/ })

  const parsed = JSON.parse(fixture('providers/mailgun/anymail_forward_parsed_fields.json').toString('utf8')) as { fields: Record<string, string> }
  const realFields = Object.entries(parsed.fields).filter(([name]) => !['timestamp', 'token', 'signature'].includes(name)) as Field[]
  const real = await post(realFields)
  t.match(real, { status: 'rejected', reason: /unknown sender|sender authentication failed/ }, 'a real parsed post is read and stored')
})
