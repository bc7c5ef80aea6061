import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { freePort } from '../support/net.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

t.test(`the Orchestrator connection on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' } })

  const cloud = { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance' }

  t.test('PUT stores the connection, GET shows it with secrets as markers only', async (t) => {
    const { api } = await newTenant(app, 'Cloudy')
    t.equal((await api('GET', '/api/v1/orchestrator')).statusCode, 404)
    const put = await api('PUT', '/api/v1/orchestrator', { ...cloud, webhookSecret: 'webhook-secret-0123456789' })
    t.equal(put.statusCode, 200)
    const connection = put.json()
    t.match(connection, {
      kind: 'cloud',
      organization: 'acme',
      tenantName: 'DefaultTenant',
      authMode: 'client_credentials',
      clientId: 'sim-client',
      scopes: 'OR.Jobs OR.Folders.Read OR.Execution.Read OR.Queues',
      clientSecret: { set: true },
      webhookSecret: { set: true },
      defaultFolder: 'Finance'
    })
    t.equal(connection.webhookUrl, `https://mailrun.acme.example/webhooks/orchestrator/${connection.id}`)
    t.same((await api('GET', '/api/v1/orchestrator')).json(), connection)
    const row = await database.db.selectFrom('orchestrator_connections').selectAll().where('id', '=', connection.id).executeTakeFirstOrThrow()
    t.notOk(JSON.stringify(row).includes('sim-secret'))
    t.notOk(JSON.stringify(row).includes('webhook-secret-0123456789'))

    const kept = await api('PUT', '/api/v1/orchestrator', { ...cloud, clientSecret: undefined, defaultFolder: 'Shared' })
    t.equal(kept.statusCode, 200, 'the stored secret is kept when left out')
    t.match(kept.json(), { clientSecret: { set: true }, webhookSecret: { set: true }, defaultFolder: 'Shared', id: connection.id })
  })

  t.test('each mode names the fields it still needs', async (t) => {
    const { api } = await newTenant(app, 'Incomplete')
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...cloud, organization: undefined }, 'organization'],
      [{ ...cloud, clientSecret: undefined }, 'clientSecret'],
      [{ kind: 'onprem', url: sim.url, authMode: 'password', username: 'admin', password: 'x' }, 'tenantName'],
      [{ kind: 'onprem', url: sim.url, authMode: 'token' }, 'accessToken'],
      [{ kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'T', authMode: 'refresh_token', userKey: 'k' }, 'clientId']
    ]
    for (const [body, field] of cases) {
      const res = await api('PUT', '/api/v1/orchestrator', body)
      t.equal(res.statusCode, 400, `missing ${field}`)
      t.match(res.json().details, [{ field, message: /is required/ }])
    }
    const bad = await api('PUT', '/api/v1/orchestrator', { ...cloud, authMode: 'kerberos' })
    t.equal(bad.statusCode, 400)
  })

  const modes: Array<[string, Record<string, unknown>]> = [
    ['client_credentials', cloud],
    ['password (on-premises)', { kind: 'onprem', url: sim.url, tenantName: 'Default', authMode: 'password', username: 'admin', password: 'sim-password', defaultFolder: 'Finance' }],
    ['refresh_token (legacy)', { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'refresh_token', clientId: 'sim-legacy-client', userKey: 'sim-user-key', defaultFolder: 'Finance' }],
    ['token (personal access token)', { kind: 'onprem', url: sim.url, authMode: 'token', accessToken: 'sim-pat', defaultFolder: 'Finance' }]
  ]
  for (const [name, body] of modes) {
    t.test(`the test action authenticates with ${name} and finds the default folder`, async (t) => {
      const { api } = await newTenant(app, `Mode ${name}`)
      t.equal((await api('PUT', '/api/v1/orchestrator', body)).statusCode, 200)
      const res = await api('POST', '/api/v1/orchestrator/test')
      t.equal(res.statusCode, 200)
      t.match(res.json(), { ok: true, steps: [{ step: 'authenticate', ok: true }, { step: 'folder', ok: true, detail: /found folder "Finance" \(id \d+\)/ }] })
    })
  }

  t.test('a wrong secret fails at authentication and says what to check', async (t) => {
    const { api } = await newTenant(app, 'WrongSecret')
    await api('PUT', '/api/v1/orchestrator', { ...cloud, clientSecret: 'not-the-secret' })
    const res = (await api('POST', '/api/v1/orchestrator/test')).json()
    t.match(res, { ok: false, steps: [{ step: 'authenticate', ok: false, detail: /authentication \(client_credentials\) failed: the server answered 400 invalid_client; check the external application id, secret and scopes/ }] })
    t.equal(res.steps.length, 1)
  })

  t.test('an unknown default folder is reported with the name', async (t) => {
    const { api } = await newTenant(app, 'NoFolder')
    await api('PUT', '/api/v1/orchestrator', { ...cloud, defaultFolder: "Robots' Room" })
    const res = (await api('POST', '/api/v1/orchestrator/test')).json()
    t.match(res, { ok: false, steps: [{ step: 'authenticate', ok: true }, { step: 'folder', ok: false, detail: /folder "Robots' Room" was not found/ }] })
    const lookup = sim.requests.filter((r) => r.path.endsWith('/odata/Folders')).pop()
    t.equal(lookup?.query.get('$filter'), "FullyQualifiedName eq 'Robots'' Room'", 'quotes are escaped in the OData literal')
    t.equal(lookup?.headers['x-uipath-organizationunitid'], undefined, 'the folder lookup sends no folder header')
  })

  t.test('an expired token is renewed once, transparently', async (t) => {
    const { api } = await newTenant(app, 'Expiring')
    await api('PUT', '/api/v1/orchestrator', cloud)
    t.equal((await api('POST', '/api/v1/orchestrator/test')).json().ok, true)
    const before = sim.tokensIssued()
    t.equal((await api('POST', '/api/v1/orchestrator/test')).json().ok, true)
    t.equal(sim.tokensIssued(), before, 'a cached token is reused')
    sim.expireTokens()
    t.equal((await api('POST', '/api/v1/orchestrator/test')).json().ok, true)
    t.equal(sim.tokensIssued(), before + 1, 'one new token after the 401')
  })

  t.test('an unreachable server is reported, not thrown', async (t) => {
    const { api } = await newTenant(app, 'Unreachable')
    const port = await freePort()
    await api('PUT', '/api/v1/orchestrator', { ...cloud, url: `http://127.0.0.1:${port}` })
    const res = await api('POST', '/api/v1/orchestrator/test')
    t.equal(res.statusCode, 200)
    const detail = res.json().steps[0].detail as string
    t.match(res.json(), { ok: false, steps: [{ step: 'authenticate', ok: false }] })
    t.equal(detail, `could not reach Orchestrator at http://127.0.0.1:${port}: the connection was refused (nothing listens there) (ECONNREFUSED)`, 'where, why, and the code once')
  })

  t.test('a server that does not answer: how long mailrun waited', async (t) => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { silent.closeAllConnections(); silent.close() })
    const { app } = await buildTestApp(t, { env: { MAILRUN_ORCHESTRATOR_TIMEOUT_S: '1' } })
    const { api } = await newTenant(app, 'Silent')
    await api('PUT', '/api/v1/orchestrator', { ...cloud, url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` })
    const res = await api('POST', '/api/v1/orchestrator/test')
    t.match(res.json().steps[0].detail, /did not answer within 1 s \(UND_ERR_HEADERS_TIMEOUT\)$/)
  })
})

t.test('an Orchestrator URL in MAILRUN_OUTBOUND_DENY is refused', async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: '127.0.0.0/8,169.254.0.0/16' } })
  const { api } = await newTenant(app, 'Metadata')
  const res = await api('PUT', '/api/v1/orchestrator', { kind: 'onprem', url: 'http://169.254.169.254/latest', authMode: 'token', accessToken: 'x' })
  t.equal(res.statusCode, 400)
  t.match(res.json().details, [{ field: 'url', message: /MAILRUN_OUTBOUND_DENY/ }])
})

t.test('a connection whose address became refused says so, with no hint about credentials never tried', async (t) => {
  // Saved while the deny list allowed it (the list changed since): the refusal comes at use, before any connection.
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: '10.0.0.0/8' } })
  const { id, api } = await newTenant(app, 'Moved')
  await database.db.insertInto('orchestrator_connections').values({ tenant_id: id, kind: 'onprem', url: 'http://10.1.2.3', auth_mode: 'client_credentials', client_id: 'app', secret_enc: app.secrets.seal('s'), tenant_name: 'Default' }).execute()
  const detail = (await api('POST', '/api/v1/orchestrator/test')).json().steps[0].detail as string
  t.match(detail, /^authentication \(client_credentials\) failed: 10\.1\.2\.3 resolves to 10\.1\.2\.3, an address this mailrun instance may not connect to \(MAILRUN_OUTBOUND_DENY/)
  t.notMatch(detail, /secret|scopes/)
})

t.test("the docs' placeholders are refused as values, naming the field", async (t) => {
  const { app } = await buildTestApp(t)
  const { api } = await newTenant(app, 'Copied')
  for (const placeholder of ['…', '...', '<client secret>']) {
    const res = await api('PUT', '/api/v1/orchestrator', { kind: 'cloud', url: 'https://cloud.uipath.com', organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'real-app-id', clientSecret: placeholder })
    t.equal(res.statusCode, 400, placeholder)
    t.match(res.json().details, [{ field: 'clientSecret', message: /is a placeholder .*paste the real one/ }])
  }
  const real = await api('PUT', '/api/v1/orchestrator', { kind: 'cloud', url: 'https://cloud.uipath.com', organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'real-app-id', clientSecret: 'x7.Yq…z' })
  t.equal(real.statusCode, 200, 'an ellipsis inside a real value is fine')
  const mailbox = await api('POST', '/api/v1/mailboxes', { address: 'robots@copied.example', mailgunSigningKey: '…', imap: { host: 'imap.copied.example', user: 'robots', password: '<app password>' } })
  t.equal(mailbox.statusCode, 400)
  t.match(mailbox.json().details, [{ field: 'mailgunSigningKey', message: /placeholder/ }])
})
