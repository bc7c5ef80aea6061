import t from 'tap'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf, jar } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'

// A new tenant's first console user without curl and a tenant key (issue #29): the instance admin
// makes it through the API (with tenantId) or on the instance console page.

t.test(`the instance admin makes a tenant's first console user on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t)
  const admin = client(app, ADMIN_KEY)
  const acme = await newTenant(app, 'Acme', 3, ['acme.example'])
  const globex = await newTenant(app, 'Globex', 3, ['globex.example'])

  const created = await admin('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga', role: 'admin', tenantId: acme.id })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { email: 'olga@acme.example', role: 'admin', setPasswordUrl: /\/console\/set-password\// })
  t.same((await acme.api('GET', '/api/v1/users')).json().items.map((u: { email: string }) => u.email), ['olga@acme.example'], 'in that tenant')
  t.same((await globex.api('GET', '/api/v1/users')).json().items, [], 'and no other')
  const consultant = await admin('POST', '/api/v1/users', { email: 'ivan@integrator.example', name: 'Ivan', role: 'viewer', tenantId: acme.id })
  t.equal(consultant.statusCode, 201, "the instance admin may use an address outside the tenant's domains")

  const noTenant = await admin('POST', '/api/v1/users', { email: 'x@acme.example', name: 'X', role: 'admin' })
  t.equal(noTenant.statusCode, 400)
  t.match(noTenant.json().details, [{ field: 'tenantId', message: /is required with the instance-admin key/ }])
  t.equal((await admin('POST', '/api/v1/users', { email: 'x@acme.example', name: 'X', role: 'admin', tenantId: '00000000-0000-4000-8000-000000000000' })).statusCode, 404)
  t.equal((await globex.api('POST', '/api/v1/users', { email: 'x@globex.example', name: 'X', role: 'admin', tenantId: acme.id })).statusCode, 400, 'a tenant key cannot make users elsewhere')
  t.equal((await admin('GET', '/api/v1/users')).statusCode, 403, 'reading users stays the tenant\'s')

  const { get, post } = consoleClient(app)
  const j = jar()
  const signInPage = await get(j, '/console/sign-in')
  await post(j, '/console/sign-in/admin', { _csrf: csrfOf(signInPage.body), adminKey: ADMIN_KEY })
  const page = await get(j, `/console/admin/tenants/${globex.id}`)
  t.match(page.body, /The tenant has 0 console user\(s\)/)
  const invited = await post(j, `/console/admin/tenants/${globex.id}/users`, { _csrf: csrfOf(page.body), email: 'gus@globex.example', name: 'Gus', role: 'admin' })
  t.equal(invited.statusCode, 201)
  const link = /<code id="set-password-link">([^<]+)<\/code>/.exec(invited.body)?.[1] ?? ''
  t.match(link, /\/console\/set-password\//)
  const setPage = await get(jar(), new URL(link).pathname)
  t.equal(setPage.statusCode, 200, 'the link works')
  t.match((await globex.api('GET', '/api/v1/users')).json().items, [{ email: 'gus@globex.example', role: 'admin', passwordSet: false }])
})
