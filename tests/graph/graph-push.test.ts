import fc from 'fast-check'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { startGraphStandIn } from '../support/graph-stand-in.js'
import { startIdentityStandIn } from '../support/identity-stand-in.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { buildMessage } from '../support/mail.js'
import { freePort } from '../support/net.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Microsoft Graph push against a stand-in that follows Graph's contract: subscriptions made and
// validated through mailrun's own HTTP endpoint, a notification that launches, a notification lost
// on purpose found by the delta pass, forged notifications ignored, lifecycle events, renewal,
// throttling, and an app that may not read the mailbox.

const USER = 'robots@acme.example'
const SECRET = 'graph-app-secret-value-123'

t.test(`Microsoft Graph push, on ${testDatabaseKind}`, async (t) => {
  const idp = await startIdentityStandIn()
  t.teardown(idp.close)
  const graph = await startGraphStandIn(idp)
  t.teardown(graph.close)
  idp.microsoftScopes.push(graph.scope)
  idp.microsoft.push({ tenant: 'acme.onmicrosoft.com', clientId: 'graph-app', secret: SECRET, mailboxes: [USER] })
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  // Graph calls mailrun back: the app listens for real, on the address its public URL names.
  const port = await freePort()
  const { app, database, log } = await buildTestApp(t, { env: { MAILRUN_PUBLIC_URL: `http://127.0.0.1:${port}` } })
  await app.listen({ port, host: '127.0.0.1' })
  const db = database.db
  const auth = { kind: 'microsoft', tenantId: 'acme.onmicrosoft.com', clientId: 'graph-app', clientSecret: SECRET, authority: idp.url }
  const setup = await setUpLaunching(app, sim, {}, { graph: { baseUrl: graph.url, auth } })
  const { api } = setup
  const mailboxUrl = `/api/v1/mailboxes/${setup.mailboxId}`
  const message = (id: string) => buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: `<${id}@sender.example>` })
  const stored = async (id: string) => await eventually(async () => await db.selectFrom('messages').selectAll().where('dedupe_key', '=', `<${id}@sender.example>`).where('status', '!=', 'received').executeTakeFirst(), 15_000)
  const launchesOf = async (messageId: string) => await db.selectFrom('launches').selectAll().where('message_id', '=', messageId).execute()
  const subscriptionRows = async () => await db.selectFrom('graph_subscriptions').selectAll().where('mailbox_id', '=', setup.mailboxId).orderBy('folder').execute()

  t.test('the settings, shown without their secret', async (t) => {
    const res = await api('GET', mailboxUrl)
    t.match(res.json().graph, { user: USER, baseUrl: graph.url, auth: { kind: 'microsoft', clientId: 'graph-app', clientSecret: { set: true } } })
    t.notMatch(res.body, SECRET)
    t.match(res.json().warnings, [/Graph posts notifications only to https URLs/], 'an http public URL is called out')
  })

  t.test('a pass subscribes to Inbox and Junk Email, validated through mailrun\'s endpoint', async (t) => {
    await app.graph.syncMailbox(setup.mailboxId)
    const rows = await subscriptionRows()
    t.same(rows.map((r) => r.folder), ['inbox', 'junkemail'])
    t.ok(rows.every((r) => r.subscription_id !== null && graph.subscriptions.has(r.subscription_id) && r.delta_link !== null))
    const subs = [...graph.subscriptions.values()]
    t.match(subs, [
      { resource: `users/${USER}/mailFolders('inbox')/messages`, changeType: 'created', notificationUrl: `http://127.0.0.1:${port}/graph/notifications`, lifecycleNotificationUrl: `http://127.0.0.1:${port}/graph/lifecycle` },
      { resource: `users/${USER}/mailFolders('junkemail')/messages` }
    ])
    t.ok(subs.every((s) => s.clientState !== null && s.clientState.length >= 24), 'each with a clientState of its own')
    t.notOk(rows.some((r) => r.client_state_enc?.includes(subs[0]?.clientState ?? '-')), 'clientState sealed at rest')
    const status = (await api('GET', mailboxUrl)).json().graphStatus
    t.equal(status.lastError, null)
    t.not(status.lastSyncedAt, null)
    const check = (await api('POST', `${mailboxUrl}/test`)).json()
    t.match(check.steps, [
      { step: 'graph token', ok: true, detail: /^access token issued for robots@acme\.example by / },
      { step: 'graph mailbox', ok: true, detail: /^read robots@acme\.example's Inbox \(0 messages\) through http:/ },
      { step: 'imap', ok: true, detail: /fed by Graph push only/ }
    ])
  })

  t.test('a notified message launches', async (t) => {
    await graph.deliver(USER, 'inbox', message('graph-1'))
    t.equal(graph.notified.at(-1)?.status, 202, 'mailrun answered the notification 202')
    await app.graph.idle()
    const row = await stored('graph-1')
    t.match(row, { door: 'graph', status: 'accepted' })
    await eventually(async () => (await launchesOf(row.id))[0]?.state === 'launched')
    t.equal(sim.jobs.length, 1)
  })

  t.test('a lost notification: the delta pass finds the message; seen twice, launched once', async (t) => {
    await graph.deliver(USER, 'junkemail', message('graph-lost'), { notify: false })
    await app.graph.idle()
    t.equal(await db.selectFrom('messages').select('id').where('dedupe_key', '=', '<graph-lost@sender.example>').executeTakeFirst(), undefined, 'not there before the pass')
    await app.graph.syncMailbox(setup.mailboxId)
    const row = await stored('graph-lost')
    t.match(row, { door: 'graph', imap_folder: 'Junk Email', status: 'accepted' })
    t.ok((row.detection_latency_ms ?? -1) >= 0, 'latency measured from receivedDateTime')
    // The same message again (a second copy in the Inbox, notified) and another pass.
    await graph.deliver(USER, 'inbox', message('graph-lost'))
    await app.graph.idle()
    await app.graph.syncMailbox(setup.mailboxId)
    await eventually(async () => (await launchesOf(row.id))[0]?.state === 'launched')
    t.equal((await launchesOf(row.id)).length, 1)
    t.equal((await db.selectFrom('messages').select('id').where('dedupe_key', '=', '<graph-lost@sender.example>').execute()).length, 1)
    t.equal(sim.jobs.length, 2, 'one job per message')
  })

  t.test('forged and malformed notifications are not acted on', async (t) => {
    const [inbox] = await subscriptionRows()
    const forged = await app.inject({ method: 'POST', url: '/graph/notifications', headers: { 'content-type': 'application/json' }, payload: { value: [{ subscriptionId: inbox?.subscription_id, clientState: 'guessed', changeType: 'created', resourceData: { id: 'AAMk-forged' } }] } })
    t.equal(forged.statusCode, 202)
    t.same(forged.json(), { accepted: 0, refused: 1 })
    t.notOk(graph.requests.some((r) => r.path.includes('AAMk-forged')), 'nothing fetched for it')
    const bad = await app.inject({ method: 'POST', url: '/graph/notifications', headers: { 'content-type': 'application/json' }, payload: '{"value": [' })
    t.equal(bad.statusCode, 400)
    const validation = await app.inject({ method: 'POST', url: '/graph/lifecycle?validationToken=Validation%3A%20abc%3C%3E', headers: { 'content-type': 'text/plain' } })
    t.equal(validation.statusCode, 200)
    t.equal(validation.body, 'Validation: abc<>')
    t.match(validation.headers['content-type'], /^text\/plain/)
  })

  t.test('no body answers the notification endpoints with a 5xx', async (t) => {
    const [inbox] = await subscriptionRows()
    const item = fc.record({
      subscriptionId: fc.oneof(fc.constant(inbox?.subscription_id), fc.string(), fc.integer(), fc.constant(null)),
      clientState: fc.oneof(fc.string(), fc.constant(null), fc.json()),
      changeType: fc.oneof(fc.constantFrom('created', 'updated', 'deleted'), fc.string()),
      lifecycleEvent: fc.oneof(fc.constantFrom('missed', 'subscriptionRemoved', 'reauthorizationRequired'), fc.string()),
      resourceData: fc.oneof(fc.record({ id: fc.oneof(fc.string(), fc.integer()) }), fc.constant(null), fc.string())
    }, { requiredKeys: [] })
    const body = fc.oneof(fc.record({ value: fc.array(fc.oneof(item, fc.jsonValue()), { maxLength: 5 }) }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string())
    await fc.assert(fc.asyncProperty(body, fc.constantFrom('notifications', 'lifecycle'), async (b, path) => {
      const res = await app.inject({ method: 'POST', url: `/graph/${path}`, headers: { 'content-type': 'application/json' }, payload: typeof b === 'string' ? b : JSON.stringify(b) })
      if (res.statusCode !== 202 && res.statusCode !== 400) throw new Error(`${res.statusCode} ${res.body}`)
    }), { numRuns: 200 })
    await app.graph.idle()
    t.pass('every body was answered 202 or 400')
  })

  t.test('lifecycle events: reauthorize, recreate a removed subscription, catch up after missed', async (t) => {
    const [inbox, junk] = await subscriptionRows()
    t.equal(await graph.lifecycle(inbox?.subscription_id ?? '', 'reauthorizationRequired'), 202)
    await app.graph.idle()
    t.ok(graph.requests.some((r) => r.method === 'POST' && r.path === `/v1.0/subscriptions/${inbox?.subscription_id ?? ''}/reauthorize`), 'reauthorized')
    t.equal(await graph.lifecycle(junk?.subscription_id ?? '', 'subscriptionRemoved'), 202)
    await app.graph.idle()
    const after = await subscriptionRows()
    t.not(after[1]?.subscription_id, junk?.subscription_id, 'a new Junk Email subscription')
    t.ok(graph.subscriptions.has(after[1]?.subscription_id ?? ''))
    await graph.deliver(USER, 'inbox', message('graph-missed'), { notify: false })
    t.equal(await graph.lifecycle(inbox?.subscription_id ?? '', 'missed'), 202)
    await app.graph.idle()
    t.match(await stored('graph-missed'), { door: 'graph' })
  })

  t.test('subscriptions are renewed well before they expire', async (t) => {
    await db.updateTable('graph_subscriptions').set({ expires_at: new Date(Date.now() + 3600_000) }).where('mailbox_id', '=', setup.mailboxId).execute()
    const patchesBefore = graph.requests.filter((r) => r.method === 'PATCH').length
    await app.graph.syncMailbox(setup.mailboxId)
    t.equal(graph.requests.filter((r) => r.method === 'PATCH').length - patchesBefore, 2, 'both renewed')
    const rows = await subscriptionRows()
    t.ok(rows.every((r) => (r.expires_at?.getTime() ?? 0) > Date.now() + 2 * 24 * 3600_000), 'about three days ahead again')
  })

  t.test('throttling: Retry-After is waited out', async (t) => {
    graph.throttle(2, 1)
    const started = Date.now()
    await graph.deliver(USER, 'inbox', message('graph-throttled'), { notify: false })
    await app.graph.syncMailbox(setup.mailboxId)
    t.ok(Date.now() - started >= 1900, `waited ${Date.now() - started} ms for two 1-second Retry-Afters`)
    t.match(await stored('graph-throttled'), { door: 'graph' })
    t.equal((await api('GET', mailboxUrl)).json().graphStatus.lastError, null)
  })

  t.test('a token Graph refuses (revoked before its time) is replaced at once', async (t) => {
    idp.revokeAll()
    const tokenRequests = idp.requests.length
    await graph.deliver(USER, 'inbox', message('graph-after-revoke'), { notify: false })
    await app.graph.syncMailbox(setup.mailboxId)
    t.match(await stored('graph-after-revoke'), { door: 'graph' })
    t.equal(idp.requests.length - tokenRequests, 1, 'one new token')
    t.ok(graph.requests.some((r) => r.method === 'GET'), 'and the pass went through')
    t.equal((await api('GET', mailboxUrl)).json().graphStatus.lastError, null)
  })

  t.test('an app that may not read the mailbox: the status says what to check', async (t) => {
    const beta = await newTenant(app, 'Beta')
    idp.microsoft.push({ tenant: 'beta.onmicrosoft.com', clientId: 'beta-graph', secret: 'beta-secret', mailboxes: ['someone@beta.example'] })
    const created = await beta.api('POST', '/api/v1/mailboxes', { address: 'robots@beta.example', graph: { baseUrl: graph.url, auth: { ...auth, tenantId: 'beta.onmicrosoft.com', clientId: 'beta-graph', clientSecret: 'beta-secret' } } })
    t.equal(created.statusCode, 201)
    await app.graph.syncMailbox(created.json().id)
    const status = (await beta.api('GET', `/api/v1/mailboxes/${created.json().id as string}`)).json().graphStatus
    t.match(status.lastError, /Graph answered 403 ExtensionError: .*Access is denied.*check the app's Mail\.Read permission/)
    const check = (await beta.api('POST', `/api/v1/mailboxes/${created.json().id as string}/test`)).json()
    t.match(check, { ok: false, steps: [{ step: 'graph token', ok: true }, { step: 'graph mailbox', ok: false, detail: /403 ErrorAccessDenied.*access policy includes this mailbox/ }] })
    t.notOk(log.lines.some((line) => line.includes(SECRET) || line.includes('beta-secret')), 'no secret in the log')
  })
})
