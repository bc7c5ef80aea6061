import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { buildMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// A console user who reads Russian sees a rejected message's problems and what became of it in
// Russian, from the same catalogue as the senders' replies (#27).

t.test(`a rejected message in a Russian console, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t)
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  t.equal((await setup.api('POST', '/api/v1/users', { email: 'ops@acme.example', name: 'Ольга', role: 'admin', password: 'a long console password' })).statusCode, 201)
  const { get, post, signIn } = consoleClient(app)
  const { jar } = await signIn('ops@acme.example', 'a long console password')
  t.equal((await post(jar, '/console/account/language', { _csrf: csrfOf((await get(jar, '/console')).body), locale: 'ru' })).statusCode, 303)

  const payload = buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Monthly Report', body: 'perod = 2026-11\nBuidReport', messageId: '<ru-console@sender.example>' })
  const answer = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload })).json()
  t.equal(answer.status, 'rejected')

  const page = await get(jar, `/console/messages/${String(answer.message)}`)
  t.equal(page.statusCode, 200)
  t.match(page.body, /ошибок в письме: 3/)
  t.match(page.body, /У робота «Monthly Report» нет параметра «perod»/)
  t.match(page.body, /у робота Monthly Report нет функции «BuidReport»/)
  // The reply sent is shown as sent (this tenant answers senders in English); the console's own words are Russian.
  const problems = /<ol class="problems">[\s\S]*?<\/ol>/.exec(page.body)?.[0] ?? ''
  t.notMatch(problems, /is not a function of|has no input|needs the input/)
  t.notMatch(page.body, /the email has 3 problems/)
  const list = await get(jar, '/console/messages')
  t.match(list.body, /ошибок в письме: 3/)
  t.notMatch(list.body, /the email has 3 problems/)
})
