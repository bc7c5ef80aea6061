import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'
import { consoleClient, csrfOf, jar, type Jar } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'

// The console over HTTP, without a browser: sessions, CSRF, roles, tenants. The browser journeys
// (tests/console/browser.test.ts) drive the same pages in Chromium.

t.test(`console pages over HTTP on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t)
  const acme = await newTenant(app, 'Acme')
  const globex = await newTenant(app, 'Globex')
  await acme.api('POST', '/api/v1/users', { email: 'admin@acme.example', name: 'Ada Admin', role: 'admin', password: 'acme admin password' })
  await acme.api('POST', '/api/v1/users', { email: 'viewer@acme.example', name: 'Vic Viewer', role: 'viewer', password: 'acme viewer password' })
  await globex.api('POST', '/api/v1/users', { email: 'admin@globex.example', name: 'Gus', role: 'admin', password: 'globex admin password' })
  const globexSender = (await globex.api('POST', '/api/v1/senders', { fullName: 'Gina', email: 'gina@globex.example' })).json()

  const { get, post, signIn: session } = consoleClient(app)
  const signIn = async (email: string, password: string): Promise<Jar> => {
    const { jar, res } = await session(email, password)
    t.equal(res.statusCode, 303, `${email} signs in`)
    return jar
  }

  t.test('/ leads to the console, and the console to sign-in', async (t) => {
    t.equal((await app.inject({ url: '/' })).headers.location, '/console')
    const res = await app.inject({ url: '/console/messages' })
    t.equal(res.statusCode, 302)
    t.equal(res.headers.location, '/console/sign-in?next=%2Fconsole%2Fmessages')
  })

  t.test('a wrong password is refused with a clear message; the session cookie is HttpOnly and SameSite', async (t) => {
    const j = jar()
    const page = await get(j, '/console/sign-in')
    const wrong = await post(j, '/console/sign-in', { _csrf: csrfOf(page.body), email: 'admin@acme.example', password: 'not the password' })
    t.equal(wrong.statusCode, 401)
    t.match(wrong.body, /The email or the password is wrong/)
    const right = await post(j, '/console/sign-in', { _csrf: csrfOf(wrong.body), email: 'ADMIN@acme.example', password: 'acme admin password', next: '/console/senders' })
    t.equal(right.statusCode, 303)
    t.equal(right.headers.location, '/console/senders')
    const cookie = [right.headers['set-cookie']].flat().find((c) => c?.startsWith('mailrun_session=')) ?? ''
    t.match(cookie, /HttpOnly/)
    t.match(cookie, /SameSite=Lax/)
    t.match(cookie, /Path=\/console/)
    t.notMatch(cookie, /Secure/, 'not Secure on a plain-http public URL')
    const dash = await get(j, '/console')
    t.equal(dash.statusCode, 200)
    t.match(dash.body, /Signed in as Ada Admin \(admin\), Acme/)
  })

  t.test('a sign-in link cannot send the user to another site', async (t) => {
    const j = jar()
    const page = await get(j, '/console/sign-in')
    for (const next of ['https://evil.example/', '//evil.example/console', '/console//evil.example', '/consolex', '/console/x\r\nSet-Cookie: a=b', '/console/\nx', '/console/ x']) {
      const res = await post(j, '/console/sign-in', { _csrf: csrfOf(page.body), email: 'admin@acme.example', password: 'acme admin password', next })
      t.equal(res.statusCode, 303, JSON.stringify(next))
      t.equal(res.headers.location, '/console', JSON.stringify(next))
    }
    const shown = await app.inject({ url: `/console/sign-in?next=${encodeURIComponent('/console/x\r\nSet-Cookie: a=b')}` })
    t.equal(shown.statusCode, 200, 'a link with CR/LF in next shows the sign-in page (#28)')
    t.notMatch(shown.body, /Set-Cookie/)
  })

  t.test('an admin adds a sender; a form without its CSRF token changes nothing', async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    const list = await get(j, '/console/senders')
    const created = await post(j, '/console/senders', { _csrf: csrfOf(list.body), fullName: 'Anna Petrova', email: 'anna@acme.example', active: 'on' })
    t.equal(created.statusCode, 303)
    const after = await get(j, '/console/senders?done=created')
    t.match(after.body, /Sender added/)
    t.match(after.body, /anna@acme.example/)
    const forged = await post(j, '/console/senders', { fullName: 'Mallory', email: 'mallory@acme.example', active: 'on' })
    t.equal(forged.statusCode, 403)
    t.match(forged.body, /form expired or was not sent from this page/)
    const wrongToken = await post(j, '/console/senders', { _csrf: 'x'.repeat(40), fullName: 'Mallory', email: 'mallory@acme.example' })
    t.equal(wrongToken.statusCode, 403)
    t.notMatch((await acme.api('GET', '/api/v1/senders')).body, /mallory/)
    const invalid = await post(j, '/console/senders', { _csrf: csrfOf(after.body), fullName: 'No Address', email: 'not an address' })
    t.equal(invalid.statusCode, 400)
    t.match(invalid.body, /email/)
    t.match(invalid.body, /value="No Address"/, 'the form keeps what was typed')
    const duplicate = await post(j, '/console/senders', { _csrf: csrfOf(after.body), fullName: 'Anna Again', email: 'ANNA@acme.example' })
    t.equal(duplicate.statusCode, 409)
    t.match(duplicate.body, /already exists/)
  })

  t.test('an admin adds a robot with its catalogue as text; the robot page shows an example email that passes', async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    await acme.api('POST', '/api/v1/mailboxes', { address: 'robots@acme.example', senderAuth: 'off' })
    const anna = (await acme.api('GET', '/api/v1/senders?search=anna')).json().items[0]
    const form = await get(j, '/console/robots/new')
    t.equal(form.statusCode, 200)
    const bad = await post(j, '/console/robots', { _csrf: csrfOf(form.body), name: 'Monthly Report', functions: 'ExtractData\n  region: text', launchMode: 'job' })
    t.equal(bad.statusCode, 400)
    t.match(bad.body, /functions, line 2: &quot;text&quot; is not a type/)
    t.match(bad.body, /ExtractData/, 'the form keeps what was typed')
    const created = await app.inject({
      method: 'POST',
      url: '/console/robots',
      headers: { cookie: j.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([['_csrf', csrfOf(form.body)], ['name', 'Monthly Report'], ['processName', 'MonthlyReport'], ['launchMode', 'job'], ['parameters', 'period: date, required — The month'],
        ['functions', 'ExtractData — From the ERP\n  region: string, required\nBuildReport'], ['senderIds', anna.id]]).toString()
    })
    t.equal(created.statusCode, 303, created.body)
    const robot = (await acme.api('GET', '/api/v1/robots')).json().items[0]
    t.match(robot, { name: 'Monthly Report', processName: 'MonthlyReport', senderIds: [anna.id], parameters: [{ name: 'period', type: 'date', required: true, description: 'The month' }], functions: [{ name: 'ExtractData', parameters: [{ name: 'region', required: true }] }, { name: 'BuildReport' }] })
    const page = await get(j, `/console/robots/${robot.id as string}`)
    t.match(page.body, /period = 2026-05-31/)
    t.match(page.body, /ExtractData: region = text/)
    t.match(page.body, /href="mailto:robots@acme\.example\?subject=Monthly%20Report&amp;body=period%20%3D%202026-05-31/)
    t.match(page.body, /region: string, required/, 'the edit form shows the catalogue as text')
    t.match(page.body, /name="invalidRows" value="reject" checked/, 'a new robot adds nothing from a spreadsheet with invalid rows')
    const queued = await post(j, '/console/robots', { _csrf: csrfOf(form.body), name: 'Pay Invoices', launchMode: 'queue', queueName: 'Invoices', invalidRows: 'skip' })
    t.equal(queued.statusCode, 303, queued.body)
    const payInvoices = (await acme.api('GET', '/api/v1/robots')).json().items.find((r: { name: string }) => r.name === 'Pay Invoices')
    t.match(payInvoices, { launchMode: 'queue', queueName: 'Invoices', invalidRows: 'skip' })
    t.match((await get(j, `/console/robots/${payInvoices.id as string}`)).body, /name="invalidRows" value="skip" checked/)
    const withFiles = await post(j, '/console/robots', { _csrf: csrfOf(form.body), name: 'Process Invoice', launchMode: 'job', attachmentsBucket: 'Attachments', attachmentsFolder: 'mail', attachmentsMaxMb: '2,5', attachmentsTypes: '.PDF, png;jpg' })
    t.equal(withFiles.statusCode, 303, withFiles.body)
    const processInvoice = (await acme.api('GET', '/api/v1/robots')).json().items.find((r: { name: string }) => r.name === 'Process Invoice')
    t.same(processInvoice.attachments, { bucket: 'Attachments', folder: 'mail', maxBytes: 2621440, types: ['pdf', 'png', 'jpg'] })
    t.match((await get(j, `/console/robots/${processInvoice.id as string}`)).body, /name="attachmentsTypes"[^>]*value="pdf, png, jpg"/)
  })

  t.test('mailboxes: the ingress URLs once, secrets write-only, a blank secret keeps the stored one', async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    const form = await get(j, '/console/mailboxes/new')
    const created = await post(j, '/console/mailboxes', { _csrf: csrfOf(form.body), address: 'ops@acme.example', active: 'on', senderAuth: 'dmarc', mailgunSigningKey: 'key-secret-mailgun-0001', imapOn: 'on', imapHost: 'imap.acme.example', imapPort: '993', imapTls: 'on', imapUser: 'ops@acme.example', imapPassword: 'imap-app-password-1' })
    t.equal(created.statusCode, 201, created.body.slice(0, 300))
    const url = /<code id="url-mime">([^<]+)<\/code>/.exec(created.body)?.[1] ?? ''
    t.match(url, /\/inbound\/[A-Za-z0-9_-]+\/mime$/)
    t.match(created.body, /New ingress URLs: point your mail provider at them/)
    t.match(created.body, /MAILRUN_PUBLIC_URL points at this machine/, 'a localhost public URL is called out')
    t.equal(created.headers['cache-control'], 'no-store')
    const mailbox = (await acme.api('GET', '/api/v1/mailboxes')).json().items.find((m: { address: string }) => m.address === 'ops@acme.example')
    t.match(mailbox, { mailgunSigningKey: { set: true }, imap: { host: 'imap.acme.example', password: { set: true } } })
    const page = await get(j, `/console/mailboxes/${mailbox.id as string}`)
    t.notMatch(page.body, /key-secret-mailgun-0001|imap-app-password-1/, 'no secret on the page')
    t.notMatch(page.body, /\/inbound\//, 'nor the ingress URLs')
    const again = await get(j, `/console/mailboxes/${mailbox.id as string}/ingress`)
    t.equal(/<code id="url-mime">([^<]+)<\/code>/.exec(again.body)?.[1], url, 'an admin can see the same URLs again')
    const saved = await post(j, `/console/mailboxes/${mailbox.id as string}`, { _csrf: csrfOf(page.body), address: 'ops@acme.example', active: 'on', senderAuth: 'off', imapOn: 'on', imapHost: 'imap2.acme.example', imapPort: '993', imapTls: 'on', imapUser: 'ops@acme.example', imapPassword: '' })
    t.equal(saved.statusCode, 303)
    const after = (await acme.api('GET', `/api/v1/mailboxes/${mailbox.id as string}`)).json()
    t.match(after, { senderAuth: 'off', mailgunSigningKey: { set: true }, imap: { host: 'imap2.acme.example', password: { set: true } } }, 'blank secrets are kept')
    t.match(after.warnings, [/senderAuth is off/])
    t.match((await get(j, `/console/mailboxes/${mailbox.id as string}`)).body, /senderAuth is off/, 'the warning is on the page')
    const rotated = await post(j, `/console/mailboxes/${mailbox.id as string}/rotate-token`, { _csrf: csrfOf(page.body) })
    const newUrl = /<code id="url-mime">([^<]+)<\/code>/.exec(rotated.body)?.[1] ?? ''
    t.not(newUrl, url)
    t.equal((await app.inject({ method: 'POST', url: new URL(url).pathname, headers: { 'content-type': 'message/rfc822' }, payload: 'Subject: x\r\n\r\nx' })).statusCode, 404, 'the old URL stopped working')
    const bad = await post(j, '/console/mailboxes', { _csrf: csrfOf(page.body), address: 'nope', senderAuth: 'dmarc' })
    t.equal(bad.statusCode, 400)
    t.match(bad.body, /address/)
  })

  t.test('team: invite with a one-time link, no self-lockout, API keys shown once and revocable', async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    const page = await get(j, '/console/team')
    t.equal(page.statusCode, 200)
    const invited = await post(j, '/console/team/users', { _csrf: csrfOf(page.body), email: 'carol@acme.example', name: 'Carol', role: 'viewer' })
    t.equal(invited.statusCode, 201)
    const link = /<code id="set-password-url">([^<]+)<\/code>/.exec(invited.body)?.[1] ?? ''
    t.match(link, /\/console\/set-password\//)
    t.equal((await get(jar(), new URL(link).pathname)).statusCode, 200, 'the link opens the set-password form')
    const me = (await acme.api('GET', '/api/v1/users')).json().items.find((u: { email: string }) => u.email === 'admin@acme.example')
    const self = await post(j, `/console/team/users/${me.id as string}`, { _csrf: csrfOf(page.body), action: 'save', role: 'viewer' })
    t.equal(self.statusCode, 409)
    t.match(self.body, /cannot do this to yourself/)
    t.match((await acme.api('GET', `/api/v1/users/${me.id as string}`)).json(), { role: 'admin' })

    const created = await post(j, '/console/team/keys', { _csrf: csrfOf(page.body), name: 'laptop' })
    t.equal(created.statusCode, 201)
    const key = /<code id="new-key">([^<]+)<\/code>/.exec(created.body)?.[1] ?? ''
    t.match(key, /^mrt_/)
    const use = async () => await app.inject({ url: '/api/v1/senders', headers: { authorization: `Bearer ${key}` } })
    t.equal((await use()).statusCode, 200, 'the new key works')
    t.notMatch((await get(j, '/console/team')).body, new RegExp(key), 'and is not shown again')
    const keyId = /<td>laptop<\/td>[\s\S]*?action="\/console\/team\/keys\/([0-9a-f-]+)\/revoke"/.exec((await get(j, '/console/team')).body)?.[1] ?? ''
    t.equal((await post(j, `/console/team/keys/${keyId}/revoke`, { _csrf: csrfOf(page.body) })).statusCode, 200)
    const after = await use()
    t.equal(after.statusCode, 401, 'a revoked key stops working')
  })

  t.test('senders import from a pasted list, each line added or refused with its reason', async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    const page = await get(j, '/console/senders')
    const res = await post(j, '/console/senders/import', { _csrf: csrfOf(page.body), csv: 'name,email\nBoris Orlov,boris@acme.example\nNo Address,nope\nAnna Again,anna@acme.example\n"Petrova, Olga",olga@acme.example' })
    t.equal(res.statusCode, 200)
    t.match(res.body, /Added 2\./)
    t.match(res.body, /Line 3: Email: must be an email address, like name@example.com/)
    t.match(res.body, /Line 4: a sender with the email anna@acme.example already exists/)
    const emails = (await acme.api('GET', '/api/v1/senders?limit=200')).json().items.map((s: { email: string }) => s.email)
    t.ok(emails.includes('boris@acme.example') && emails.includes('olga@acme.example'))
    t.notOk(emails.includes('nope'))
  })

  t.test('the instance admin signs in with the instance-admin key; tenants manage there; nobody else gets in', async (t) => {
    const j = jar()
    const page = await get(j, '/console/sign-in')
    const wrong = await post(j, '/console/sign-in/admin', { _csrf: csrfOf(page.body), adminKey: 'mra_not-the-key' })
    t.equal(wrong.statusCode, 401)
    t.match(wrong.body, /not an instance-admin key/)
    const tenantKey = await post(j, '/console/sign-in/admin', { _csrf: csrfOf(page.body), adminKey: acme.api.key })
    t.equal(tenantKey.statusCode, 401, 'a tenant key is not an instance-admin key')
    const right = await post(j, '/console/sign-in/admin', { _csrf: csrfOf(page.body), adminKey: ADMIN_KEY })
    t.equal(right.headers.location, '/console/admin')
    const home = await get(j, '/console/admin')
    t.equal(home.statusCode, 200)
    t.match(home.body, /Acme/)
    t.match(home.body, /Globex/)
    t.equal((await get(j, '/console/senders')).headers.location, '/console/admin', 'no tenant pages for the instance admin')
    const squat = await post(j, '/console/admin/tenants', { _csrf: csrfOf(home.body), name: 'Initech', maxMailboxes: '2', locale: 'ru', domains: 'initech.example\nacme.example' })
    t.equal(squat.statusCode, 409)
    t.match(squat.body, /acme\.example belongs to another tenant/)
    const created = await post(j, '/console/admin/tenants', { _csrf: csrfOf(home.body), name: 'Initech', maxMailboxes: '2', locale: 'ru', contactEmail: 'rpa@initech.example', domains: 'initech.example\r\nИнитех.example' })
    t.equal(created.statusCode, 303)
    const tenantPath = created.headers.location as string
    const tenantPage = await get(j, tenantPath)
    t.match(tenantPage.body, /Initech/)
    t.match(tenantPage.body, /<textarea id="tenant-domains" name="domains"[^>]*>initech\.example\nинитех\.example<\/textarea>/, 'the domains, one per line')
    t.match((await get(j, '/console/admin')).body, /initech\.example, инитех\.example/, 'and in the list of tenants')
    t.match(tenantPage.body, /Пусто — значение экземпляра \(90\)|Empty: the instance default \(90\)/, 'the retention default is stated')
    t.equal((await post(j, tenantPath, { _csrf: csrfOf(tenantPage.body), name: 'Initech', maxMailboxes: '2', locale: 'ru', domains: 'initech.example', retentionDays: '30' })).statusCode, 200)
    t.match((await client(app, ADMIN_KEY)('GET', `/api/v1/tenants/${tenantPath.split('/').pop() ?? ''}`)).json(), { domains: ['initech.example'], retentionDays: 30 })
    t.equal((await post(j, tenantPath, { _csrf: csrfOf(tenantPage.body), name: 'Initech', maxMailboxes: '2', locale: 'ru', domains: 'initech.example', retentionDays: 'a month' })).statusCode, 400)
    const keyed = await post(j, `${tenantPath}/keys`, { _csrf: csrfOf(tenantPage.body), name: 'rpa team' })
    const key = /<code id="new-key">([^<]+)<\/code>/.exec(keyed.body)?.[1] ?? ''
    t.equal((await app.inject({ url: '/api/v1/senders', headers: { authorization: `Bearer ${key}` } })).statusCode, 200, 'the key works for the new tenant')
    t.equal((await post(j, `${tenantPath}/delete`, { _csrf: csrfOf(tenantPage.body), confirm: 'initech' })).statusCode, 400, 'deleting needs the exact name')
    t.equal((await post(j, `${tenantPath}/delete`, { _csrf: csrfOf(tenantPage.body), confirm: 'Initech' })).statusCode, 303)
    t.equal((await get(j, tenantPath)).statusCode, 404)

    const user = await signIn('admin@acme.example', 'acme admin password')
    t.equal((await get(user, '/console/admin')).statusCode, 404, 'a tenant admin does not see the instance pages')
  })

  t.test('a viewer reads but cannot change anything', async (t) => {
    const j = await signIn('viewer@acme.example', 'acme viewer password')
    const opsBox = (await acme.api('GET', '/api/v1/mailboxes')).json().items.find((m: { address: string }) => m.address === 'ops@acme.example')
    t.equal((await get(j, `/console/mailboxes/${opsBox.id as string}/ingress`)).statusCode, 403, 'nor see ingress URLs')
    const list = await get(j, '/console/senders')
    t.equal(list.statusCode, 200)
    t.match(list.body, /anna@acme.example/)
    t.notMatch(list.body, /method="post" action="\/console\/senders"/, 'no add form for a viewer')
    const res = await post(j, '/console/senders', { _csrf: csrfOf(list.body), fullName: 'Vic Was Here', email: 'vic@acme.example' })
    t.equal(res.statusCode, 403)
    t.match(res.body, /Your role does not allow this/)
    t.notMatch((await acme.api('GET', '/api/v1/senders')).body, /vic@acme/)
  })

  t.test("another tenant's pages answer 404, exactly like missing ones", async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    const foreign = await get(j, `/console/senders/${globexSender.id as string}`)
    t.equal(foreign.statusCode, 404)
    t.notMatch(foreign.body, /Gina|gina@globex/)
    const missing = await get(j, '/console/senders/00000000-0000-4000-8000-000000000000')
    t.equal(missing.statusCode, 404)
    const page = await get(j, '/console/senders')
    t.equal((await post(j, `/console/senders/${globexSender.id as string}/delete`, { _csrf: csrfOf(page.body) })).statusCode, 404)
    t.equal((await globex.api('GET', `/api/v1/senders/${globexSender.id as string}`)).statusCode, 200, 'still there')
    t.equal((await get(j, '/console/messages/not-a-uuid')).statusCode, 404)
  })

  t.test('bad filters are a 400 that says what to fix, never a 500', async (t) => {
    const j = await signIn('admin@acme.example', 'acme admin password')
    const res = await get(j, '/console/messages?status=bogus')
    t.equal(res.statusCode, 400)
    t.match(res.body, /status must be one of/)
    t.equal((await get(j, '/console/messages?since=2026-13-45')).statusCode, 400)
    t.equal((await get(j, '/console/launches?cursor=garbage')).statusCode, 400)
    t.equal((await get(j, '/console/messages?status=accepted&since=2026-11-01&until=2026-11-30')).statusCode, 200)
  })

  t.test('sign out, and sign out everywhere', async (t) => {
    const a = await signIn('admin@acme.example', 'acme admin password')
    const b = await signIn('admin@acme.example', 'acme admin password')
    const page = await get(a, '/console')
    t.equal((await post(a, '/console/sign-out-everywhere', { _csrf: csrfOf(page.body) })).statusCode, 303)
    t.equal((await get(a, '/console')).statusCode, 302)
    t.equal((await get(b, '/console')).statusCode, 302, 'the other session ended too')
  })

  t.test('a viewer chooses Russian for themselves', async (t) => {
    const j = await signIn('viewer@acme.example', 'acme viewer password')
    const page = await get(j, '/console')
    t.equal((await post(j, '/console/account/language', { _csrf: csrfOf(page.body), locale: 'ru' })).statusCode, 303)
    const ru = await get(j, '/console')
    t.match(ru.body, /<html lang="ru">/)
    t.match(ru.body, /Сводка/)
  })

  t.test('a one-time link sets a password once', async (t) => {
    const created = (await acme.api('POST', '/api/v1/users', { email: 'new@acme.example', name: 'New Person', role: 'viewer' })).json()
    const path = new URL(created.setPasswordUrl).pathname
    const j = jar()
    const form = await get(j, path)
    t.equal(form.statusCode, 200)
    t.equal((await post(j, path, { _csrf: csrfOf(form.body), password: 'short' })).statusCode, 400)
    const set = await post(j, path, { _csrf: csrfOf(form.body), password: 'a long enough password' })
    t.equal(set.statusCode, 303)
    t.equal((await get(j, '/console')).statusCode, 200, 'and signs in')
    t.equal((await get(jar(), path)).statusCode, 410, 'the link works once')
  })

  t.test('sign-in is throttled per account, from any address', async (t) => {
    const j = jar()
    const page = await get(j, '/console/sign-in')
    const token = csrfOf(page.body)
    let last = 0
    for (let i = 0; i < 12; i++) {
      const res = await app.inject({ method: 'POST', url: '/console/sign-in', remoteAddress: `10.0.0.${i + 1}`, headers: { cookie: j.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: token, email: 'viewer@acme.example', password: `guess ${i}` }).toString() })
      last = res.statusCode
      if (res.statusCode === 429) {
        t.ok(i >= 10, `throttled after ${i} failures`)
        t.ok(Number(res.headers['retry-after']) > 0)
        t.match(res.body, /Too many attempts/)
        break
      }
    }
    t.equal(last, 429)
  })
})
