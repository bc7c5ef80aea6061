import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { buildMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

t.test(`a command with 12,500 bad lines gets small answers everywhere, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_SMTP_URL: 'smtp://127.0.0.1:9' } })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  const lines = ['period = 2026-11']
  for (let i = 0; i < 12_500; i++) lines.push(`NoSuchFunction${i}: region = ${'x'.repeat(70)}`)
  const body = lines.join('\n')
  t.ok(body.length > 1_200_000, `the body is ${body.length} bytes`)
  const res = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body }) })
  t.equal(res.statusCode, 200)
  t.ok(res.body.length < 20_000, `the door's answer is ${res.body.length} bytes`)
  const answer = res.json()
  t.match(answer, { status: 'rejected', reason: 'the email has 12500 problems' })
  t.equal(answer.problems.length, 21, '20 problems and one line for the rest')
  t.same(answer.problems[20], { kind: 'more_problems', params: { count: 12480 }, message: '… and 12480 more problems' })

  const record = await setup.api('GET', `/api/v1/messages/${answer.message as string}`)
  t.equal(record.statusCode, 200)
  t.ok(record.body.length < 40_000, `the API record is ${record.body.length} bytes: 21 problems and the first 10,000 characters of the text`)
  t.match(record.json().body, /\n… \(\d+ more characters not kept\)$/, 'the text kept to show is clipped')

  const reply = await database.db.selectFrom('notifications').select(['text_body', 'html_body']).where('message_id', '=', answer.message).executeTakeFirstOrThrow()
  const size = reply.text_body.length + (reply.html_body?.length ?? 0)
  t.ok(size < 40_000, `the reply email is ${size} characters`)
  t.match(reply.text_body, /… and 12480 more problems/, 'and tells the sender there is more')
})
