import type { Logger } from 'pino'
import t from 'tap'
import { createSweeper } from '../../src/imap/sweeper.js'
import type { SealedOAuthSecret } from '../../src/db/schema.js'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { needsDovecot, startDovecot } from '../support/dovecot.js'
import { startIdentityStandIn } from '../support/identity-stand-in.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { buildMessage } from '../support/mail.js'
import { googleServiceAccount, selfSignedCertificate } from '../support/oauth-credentials.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher, type SmtpLogin } from '../support/smtp.js'

// Mailboxes that sign in with OAuth2, end to end against real servers: Dovecot's oauth2 passdb
// and an SMTP server taking XOAUTH2, both asking the token endpoints' stand-in whether a token
// opens the mailbox. A message found by the IMAP sweep launches a job and the reply goes out
// over SMTP, each signed in with a token; the test action and the IMAP status say what failed.

const USER = 'robots@acme.example'
const OTHER = 'other@acme.example'
const SECRET = 'Ab1~client-secret-value-0123456789'

t.test(`OAuth2 mailboxes against Dovecot and an SMTP server, on ${testDatabaseKind}`, async (t) => {
  if (!needsDovecot(t)) return
  const idp = await startIdentityStandIn()
  t.teardown(idp.close)
  const dovecot = await startDovecot(t, { [USER]: 'test-client-password', [OTHER]: 'other-password' }, { oauth2IntrospectionUrl: `${idp.url}/introspect` })
  const logins: SmtpLogin[] = []
  const smtp = await startSmtpCatcher({ authenticate: (login) => { logins.push(login); return login.accessToken !== undefined && idp.allows(login.accessToken, login.username) } })
  t.teardown(smtp.close)
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const test = await buildTestApp(t)
  const { app, database } = test
  const db = database.db
  idp.microsoft.push({ tenant: 'acme.onmicrosoft.com', clientId: 'mailrun-app', secret: SECRET, mailboxes: [USER] })
  const microsoft = { kind: 'microsoft', tenantId: 'acme.onmicrosoft.com', clientId: 'mailrun-app', clientSecret: SECRET, authority: idp.url }
  const imap = { host: dovecot.host, port: dovecot.port, tls: false, user: USER }
  const smtpSettings = { host: '127.0.0.1', port: smtp.port, tls: false, user: USER, auth: { kind: 'same_as_imap' } }
  const setup = await setUpLaunching(app, sim, {}, { imap: { ...imap, auth: microsoft }, smtp: smtpSettings })
  const { api } = setup
  const mailboxUrl = `/api/v1/mailboxes/${setup.mailboxId}`

  t.test('the API shows the sign-in, never its secret', async (t) => {
    const res = await api('GET', mailboxUrl)
    t.equal(res.statusCode, 200)
    t.match(res.json().imap, { user: USER, password: { set: false }, auth: { kind: 'microsoft', tenantId: 'acme.onmicrosoft.com', clientId: 'mailrun-app', authority: idp.url, clientSecret: { set: true }, certificate: null } })
    t.match(res.json().smtp, { auth: { kind: 'same_as_imap' } })
    t.notMatch(res.body, SECRET)
    const row = await db.selectFrom('mailboxes').select(['imap', 'imap_password_enc']).where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()
    t.notMatch(JSON.stringify(row), SECRET, 'sealed at rest')
  })

  t.test('the test action signs in to IMAP and SMTP with one token', async (t) => {
    const before = idp.requests.length
    const res = await api('POST', `${mailboxUrl}/test`)
    t.equal(res.statusCode, 200)
    t.match(res.json(), {
      ok: true,
      steps: [
        { step: 'imap token', ok: true, detail: /^access token issued for robots@acme\.example by http:\/\/127\.0\.0\.1:\d+\/acme\.onmicrosoft\.com\/oauth2\/v2\.0\/token$/ },
        { step: 'imap login', ok: true, detail: /^logged in to 127\.0\.0\.1:\d+ as robots@acme\.example; \d+ folders$/ },
        { step: 'smtp token', ok: true },
        { step: 'smtp login', ok: true, detail: /accepted the connection and the login of robots@acme\.example$/ }
      ]
    })
    t.equal(idp.requests.length - before, 1, 'SMTP borrowed the IMAP token')
    t.equal(logins.at(-1)?.method, 'XOAUTH2')
  })

  t.test('a message found by the sweep launches, and the reply leaves over XOAUTH2', async (t) => {
    const sweeper = createSweeper({ db, tokens: app.mailTokens, receiver: app.receiver, logger: test.log.logger as unknown as Logger, deny: 'none', intervalMs: 2000, lookbackMs: 600_000, leaseMs: 3000, holder: 'oauth-test' })
    const stop = sweeper.start()
    t.teardown(async () => { await stop() })
    const repliesBefore = smtp.received.length
    await dovecot.append(USER, 'INBOX', buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: '<oauth-1@sender.example>' }))
    const message = await eventually(async () => await db.selectFrom('messages').selectAll().where('dedupe_key', '=', '<oauth-1@sender.example>').where('status', '!=', 'received').executeTakeFirst(), 20_000)
    t.match(message, { door: 'imap', status: 'accepted' })
    await eventually(async () => (await db.selectFrom('launches').select('state').where('message_id', '=', message.id).executeTakeFirst())?.state === 'launched')
    t.equal(sim.jobs.length, 1, 'one job started')
    const reply = await eventually(async () => smtp.received.slice(repliesBefore).find((r) => r.to.includes('anna@sender.example')), 20_000)
    t.match(reply.mail.subject, /Monthly Report/)
    t.ok(logins.every((l) => l.method === 'XOAUTH2'), 'every SMTP login used a token')
    const status = (await api('GET', mailboxUrl)).json().imapStatus
    t.equal(status.lastError, null)
    t.not(status.lastSweptAt, null)
    t.notOk(test.log.lines.some((line) => line.includes(SECRET)), 'the secret is never logged')
  })

  t.test('what the test action and the sweep say when sign-in fails', async (t) => {
    const beta = await newTenant(app, 'Beta')
    // An app with no grant on the mailbox it is set to open: the token is issued, the login refused.
    idp.microsoft.push({ tenant: 'beta.onmicrosoft.com', clientId: 'beta-app', secret: 'beta-secret', mailboxes: [USER] })
    const ungranted = await beta.api('POST', '/api/v1/mailboxes', { address: 'robots@beta.example', imap: { ...imap, user: OTHER, auth: { ...microsoft, tenantId: 'beta.onmicrosoft.com', clientId: 'beta-app', clientSecret: 'beta-secret' } } })
    t.equal(ungranted.statusCode, 201)
    const wrongSecret = await beta.api('POST', '/api/v1/mailboxes', { address: 'robots2@beta.example', imap: { ...imap, auth: { ...microsoft, clientSecret: 'not-the-secret' } } })
    t.equal(wrongSecret.statusCode, 201)

    const refusedLogin = (await beta.api('POST', `/api/v1/mailboxes/${ungranted.json().id as string}/test`)).json()
    t.match(refusedLogin, { ok: false, steps: [{ step: 'imap token', ok: true }, { step: 'imap login', ok: false, detail: /AUTHENTICATIONFAILED|Authentication failed.*the server refused it: check that the application may open this mailbox/ }] })
    const refusedToken = (await beta.api('POST', `/api/v1/mailboxes/${wrongSecret.json().id as string}/test`)).json()
    t.match(refusedToken, { ok: false, steps: [{ step: 'imap token', ok: false, detail: /answered 401: invalid_client: AADSTS7000215: Invalid client secret provided\..* check its ids, secret and the consent or delegation/ }] })
    t.notMatch(JSON.stringify(refusedToken), 'not-the-secret')

    const sweeper = createSweeper({ db, tokens: app.mailTokens, receiver: app.receiver, logger: test.log.logger as unknown as Logger, deny: 'none', intervalMs: 2000, lookbackMs: 600_000, leaseMs: 3000, holder: 'oauth-test-failures' })
    const stop = sweeper.start()
    t.teardown(async () => { await stop() })
    const statusOf = async (id: string) => (await beta.api('GET', `/api/v1/mailboxes/${id}`)).json().imapStatus as { lastError: string | null }
    const loginError = await eventually(async () => (await statusOf(ungranted.json().id)).lastError, 20_000)
    t.match(loginError, /^IMAP login with an access token failed: .*check that the application may open this mailbox/)
    const tokenError = await eventually(async () => (await statusOf(wrongSecret.json().id)).lastError, 20_000)
    t.match(tokenError, /^IMAP sign-in: no access token: token endpoint .* answered 401: invalid_client: AADSTS7000215: Invalid client secret provided\./)
  })

  t.test('the console shows the sign-in, tests it, and its form keeps it', async (t) => {
    await api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: 'ada console password' })
    const { get, post, signIn } = consoleClient(app)
    const { jar } = await signIn('ada@acme.example', 'ada console password')
    const page = await get(jar, `/console/mailboxes/${setup.mailboxId}`)
    t.equal(page.statusCode, 200)
    t.match(page.body, /Signs in with OAuth2 \(microsoft\)/)
    t.notMatch(page.body, /name="imapPassword"/, 'no password field for a mailbox that has none')
    const tested = await post(jar, `/console/mailboxes/${setup.mailboxId}/test`, { _csrf: csrfOf(page.body) })
    t.equal(tested.statusCode, 200)
    t.match(tested.body, /can sign in to this mailbox&#39;s servers|can sign in to this mailbox's servers/)
    t.match(tested.body, /<strong>imap login<\/strong>: ✓ logged in to/)
    const saved = await post(jar, `/console/mailboxes/${setup.mailboxId}`, {
      _csrf: csrfOf(tested.body), address: USER, senderAuth: 'off', imapOn: 'on', imapHost: imap.host, imapPort: String(imap.port), imapUser: USER, imapFolders: '', smtpOn: 'on', smtpHost: '127.0.0.1', smtpPort: String(smtp.port), smtpUser: USER, smtpFromName: ''
    })
    t.equal(saved.statusCode, 303, 'the form saves')
    t.match((await api('GET', mailboxUrl)).json(), { imap: { auth: { kind: 'microsoft', clientSecret: { set: true } } }, smtp: { auth: { kind: 'same_as_imap' } } })
  })

  t.test('a certificate instead of a secret', async (t) => {
    const cert = selfSignedCertificate('mailrun.acme.example')
    idp.microsoft.push({ tenant: 'acme-cert.onmicrosoft.com', clientId: 'cert-app', certificate: cert.certificate, mailboxes: [USER] })
    const patched = await api('PATCH', mailboxUrl, { imap: { ...imap, auth: { kind: 'microsoft', tenantId: 'acme-cert.onmicrosoft.com', clientId: 'cert-app', certificate: cert, authority: idp.url } } })
    t.equal(patched.statusCode, 200)
    t.match(patched.json().imap.auth, { kind: 'microsoft', clientSecret: { set: false }, certificate: { thumbprint: /^[0-9A-F]{40}$/, privateKey: { set: true } } })
    t.notMatch(patched.body, 'PRIVATE KEY')
    const res = (await api('POST', `${mailboxUrl}/test`)).json()
    t.match(res, { ok: true })
    t.equal(idp.requests.at(-1)?.form.client_secret, undefined)
  })

  t.test('a Google service account acting as the mailbox', async (t) => {
    idp.google.users.push(USER)
    const key = googleServiceAccount(idp)
    const patched = await api('PATCH', mailboxUrl, { imap: { ...imap, auth: { kind: 'google', serviceAccountKey: key } } })
    t.equal(patched.statusCode, 200)
    t.match(patched.json().imap.auth, { kind: 'google', clientEmail: 'mailrun@acme-robots.iam.gserviceaccount.com', tokenUri: `${idp.url}/token`, serviceAccountKey: { set: true } })
    t.notMatch(patched.body, 'PRIVATE KEY')
    t.match((await api('POST', `${mailboxUrl}/test`)).json(), { ok: true, steps: [{ step: 'imap token', ok: true }, { step: 'imap login', ok: true }, { step: 'smtp token', ok: true }, { step: 'smtp login', ok: true }] })
  })

  t.test('a refresh token, rotated by the provider, sealed back', async (t) => {
    idp.refresh.clients.push({ clientId: 'consumer-app', secret: 'consumer-secret', rotate: true })
    idp.refresh.tokens.set('first-refresh-token', { clientId: 'consumer-app', user: USER })
    const auth = { kind: 'oauth_refresh', tokenUrl: `${idp.url}/oauth/token`, clientId: 'consumer-app', clientSecret: 'consumer-secret', refreshToken: 'first-refresh-token' }
    const patched = await api('PATCH', mailboxUrl, { imap: { ...imap, auth } })
    t.equal(patched.statusCode, 200)
    t.match(patched.json().imap.auth, { kind: 'oauth_refresh', clientSecret: { set: true }, refreshToken: { set: true } })
    t.match((await api('POST', `${mailboxUrl}/test`)).json(), { ok: true })
    const row = await db.selectFrom('mailboxes').select('imap_password_enc').where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()
    const sealed = JSON.parse(app.secrets.open(row.imap_password_enc ?? '')) as SealedOAuthSecret
    t.not(sealed.refreshToken, 'first-refresh-token')
    t.ok(idp.refresh.tokens.has(sealed.refreshToken ?? ''), 'the rotated refresh token is the stored one')
    // Settings saved without auth (as the console's form does) keep the sign-in and its secrets.
    const kept = await api('PATCH', mailboxUrl, { imap: { ...imap, folders: ['Archive'] } })
    t.equal(kept.statusCode, 200)
    t.match(kept.json().imap, { folders: ['Archive'], auth: { kind: 'oauth_refresh', refreshToken: { set: true } } })
  })
})
