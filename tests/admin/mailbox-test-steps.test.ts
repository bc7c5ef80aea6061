import t from 'tap'
import { DEFAULT_OUTBOUND_DENY } from '../../src/net/outbound-guard.js'
import { buildTestApp } from '../support/app.js'
import { startDnsServer } from '../support/dns-server.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// The mailbox test (POST /api/v1/mailboxes/{id}/test) reports a host that does not resolve, or
// that resolves to an address this instance may not reach, as a failing step: 200 with ok false
// and what to check, never 503 "database unavailable" or 500 (#28 item 8). Nothing connects to the
// denied address: the refusal is decided from the DNS answer alone.

t.test('a mail host that does not resolve, or resolves to a denied address, is a failing step', async (t) => {
  const dns = await startDnsServer({})
  t.teardown(dns.close)
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: DEFAULT_OUTBOUND_DENY, MAILRUN_DNS_SERVERS: dns.address } })
  // Neither name resolves when saved, so both are let through then (and checked again at connect).
  const setup = await setUpMailbox(app, {
    mailbox: {
      senderAuth: 'off',
      imap: { host: 'imap.nowhere.acme.example', port: 993, tls: true, user: 'robots@acme.example', password: 'app password' },
      smtp: { host: 'smtp.later-internal.acme.example', port: 587, tls: false, user: 'robots@acme.example', password: 'app password' }
    }
  })
  dns.set('smtp.later-internal.acme.example', { A: ['10.20.30.40'] })
  const answer = await setup.api('POST', `/api/v1/mailboxes/${setup.mailboxId}/test`)
  t.equal(answer.statusCode, 200, answer.body)
  const check = answer.json()
  t.equal(check.ok, false)
  t.match(check.steps, [
    { step: 'imap login', ok: false, detail: /imap\.nowhere\.acme\.example/ },
    { step: 'smtp login', ok: false, detail: /10\.20\.30\.40, an address this mailrun instance may not connect to/ }
  ])
})
