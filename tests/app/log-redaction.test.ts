import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { mailgunSignature, multipart } from '../support/forms.js'
import { buildMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// An ingress token is the credential of its door, and it travels in the URL path: no log line
// may carry it, whatever happens to the request.

t.test(`no log line carries an ingress token, on ${testDatabaseKind}`, async (t) => {
  const { app, log } = await buildTestApp(t, { env: { LOG_LEVEL: 'trace', MAILRUN_MAX_MESSAGE_BYTES: '4096' } })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off', mailgunSigningKey: 'mailgun-signing-key-for-tests' } })
  const token = setup.ingressToken
  const raw = buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-11' })
  const requests = [
    { method: 'POST' as const, url: `/inbound/${token}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw },
    { method: 'POST' as const, url: `/inbound/${token}/mime?x=1`, headers: { 'content-type': 'message/rfc822' }, payload: raw },
    { method: 'POST' as const, url: `/inbound/${token}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: 'x'.repeat(8000) },
    { method: 'POST' as const, url: `/inbound/${token}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: '' },
    { method: 'POST' as const, url: `/inbound/${token}/nothing-here`, payload: '' },
    { method: 'GET' as const, url: `/inbound/${token}/mime` },
    { method: 'POST' as const, url: `/inbound/${token}/mailgun`, ...(() => { const m = multipart([...mailgunSignature('wrong-key'), ['body-mime', raw]]); return { headers: { 'content-type': m.contentType }, payload: m.body } })() },
    { method: 'POST' as const, url: `/inbound/${token}/sendgrid`, headers: { 'content-type': 'application/json' }, payload: '{}' }
  ]
  for (const request of requests) await app.inject(request)
  t.ok(log.lines.length >= requests.length * 2, `requests were logged (${log.lines.length} lines)`)
  const leaks = log.lines.filter((line) => line.includes(token))
  t.same(leaks, [], 'the token appears in no log line')
  t.ok(log.lines.some((line) => line.includes('"/inbound/[redacted]/mime"')), 'the door is still visible in the log, its token redacted')
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.notOk(metrics.includes(token), 'nor in any metric')
})
