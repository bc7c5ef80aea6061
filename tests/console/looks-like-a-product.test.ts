import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { consoleClient } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'

// The small things a new user meets first (issue #29): page titles, a favicon, an empty tenant's
// Test send saying what to add first, the password rule on the set-password page.

t.test(`the console's first impression on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t)
  const acme = await newTenant(app, 'Acme', 3, ['acme.example'])
  await acme.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: 'ada admin password' })
  const invited = (await acme.api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga', role: 'viewer' })).json()
  const { get, signIn } = consoleClient(app)
  const { jar } = await signIn('ada@acme.example', 'ada admin password')

  const title = (html: string): string => /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? ''
  t.equal(title((await get(jar, '/console')).body), 'Dashboard · mailrun')
  t.equal(title((await get(jar, '/console/launches')).body), 'Launches · mailrun')
  t.equal(title((await get(jar, '/console/team')).body), 'Team and API keys · mailrun', 'a page that names itself keeps its own title')
  for (const path of ['/console', '/console/messages', '/console/senders', '/console/robots', '/console/mailboxes', '/console/test-send']) {
    t.notMatch(title((await get(jar, path)).body), /mailrun · mailrun/, `${path} has a title of its own`)
  }

  const icon = await app.inject({ url: '/favicon.ico' })
  t.equal(icon.statusCode, 200, '/favicon.ico is not a 404')
  t.match(icon.headers['content-type'], /^image\/svg\+xml/)
  t.match((await get(jar, '/console')).body, /<link rel="icon" href="\/console\/assets\/favicon\.svg"/)

  const empty = await get(jar, '/console/test-send')
  t.match(empty.body, /Before a test, this tenant needs:/)
  t.match(empty.body, /<a href="\/console\/mailboxes">a service mailbox/)
  t.match(empty.body, /<a href="\/console\/senders">a sender/)
  t.match(empty.body, /<a href="\/console\/robots">a robot/)
  t.notMatch(empty.body, /name="mode" value="launch"/, 'no form with three empty lists')

  const setPassword = await app.inject({ url: new URL(String(invited.setPasswordUrl)).pathname })
  t.match(setPassword.body, /At least 10 characters\./)
})
