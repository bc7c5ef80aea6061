import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'

t.test(`tenants and their keys, through HTTP on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const admin = client(app, ADMIN_KEY)

  t.test('the instance admin creates, reads, lists, changes and deletes a tenant', async (t) => {
    const created = await admin('POST', '/api/v1/tenants', { name: 'Acme', maxMailboxes: 2, locale: 'ru', contactEmail: 'rpa@acme.example' })
    t.equal(created.statusCode, 201)
    const tenant = created.json()
    t.match(tenant, { name: 'Acme', maxMailboxes: 2, locale: 'ru', contactEmail: 'rpa@acme.example', mailboxCount: 0 })
    t.same((await admin('GET', `/api/v1/tenants/${tenant.id}`)).json(), tenant)
    const listed = (await admin('GET', '/api/v1/tenants')).json()
    t.ok(listed.items.some((x: { id: string }) => x.id === tenant.id))

    const patched = await admin('PATCH', `/api/v1/tenants/${tenant.id}`, { maxMailboxes: 4, locale: 'en' })
    t.equal(patched.statusCode, 200)
    t.match(patched.json(), { maxMailboxes: 4, locale: 'en', name: 'Acme' })

    t.equal((await admin('DELETE', `/api/v1/tenants/${tenant.id}`)).statusCode, 204)
    t.equal((await admin('GET', `/api/v1/tenants/${tenant.id}`)).statusCode, 404)
    t.equal(await database.db.selectFrom('tenants').where('id', '=', tenant.id).select('id').executeTakeFirst(), undefined)
  })

  t.test('locale defaults to en', async (t) => {
    const created = await admin('POST', '/api/v1/tenants', { name: 'Defaults', maxMailboxes: 1 })
    t.match(created.json(), { locale: 'en', contactEmail: null })
  })

  t.test('bad input answers 400 naming each field and what is expected', async (t) => {
    const res = await admin('POST', '/api/v1/tenants', { name: '', maxMailboxes: -1, locale: 'de', color: 'red' })
    t.equal(res.statusCode, 400)
    const body = res.json()
    t.equal(body.code, 'MAILRUN_ERR_VALIDATION')
    const fields = body.details.map((d: { field: string }) => d.field)
    for (const field of ['name', 'maxMailboxes', 'locale', 'color']) t.ok(fields.includes(field), `names ${field}`)
    t.match(body.details.find((d: { field: string }) => d.field === 'color').message, /not a known field/)
    t.equal((await admin('POST', '/api/v1/tenants', { maxMailboxes: 1 })).json().details[0].field, 'name')
  })

  t.test('a duplicate tenant name answers 409, whatever its case', async (t) => {
    t.equal((await admin('POST', '/api/v1/tenants', { name: 'Twin', maxMailboxes: 1 })).statusCode, 201)
    const dup = await admin('POST', '/api/v1/tenants', { name: 'TWIN', maxMailboxes: 1 })
    t.equal(dup.statusCode, 409)
    t.match(dup.json(), { statusCode: 409, code: 'MAILRUN_ERR_CONFLICT', message: /a tenant named "TWIN" already exists/ })
  })

  t.test('missing, malformed, unknown and revoked keys answer 401', async (t) => {
    const none = await app.inject({ method: 'GET', url: '/api/v1/tenants' })
    t.equal(none.statusCode, 401)
    t.match(none.json(), { code: 'MAILRUN_ERR_UNAUTHORIZED', message: /Missing Authorization header/ })
    const garbage = await app.inject({ method: 'GET', url: '/api/v1/tenants', headers: { authorization: 'Basic dXNlcjpwYXNz' } })
    t.equal(garbage.statusCode, 401)
    t.match(garbage.json().message, /Malformed Authorization header/)
    t.equal((await client(app, 'mrt_not-a-key')('GET', '/api/v1/tenants')).statusCode, 401)

    const { id, api } = await newTenant(app, 'Revoking')
    t.equal((await api('GET', '/api/v1/senders')).statusCode, 200, 'the new key works')
    const keys = (await admin('GET', `/api/v1/tenants/${id}/api-keys`)).json().items
    t.equal(keys.length, 1)
    t.notOk('key' in keys[0], 'a listed key never shows the key itself')
    t.ok(keys[0].lastUsedAt, 'last use is recorded')
    t.equal((await admin('DELETE', `/api/v1/tenants/${id}/api-keys/${keys[0].id}`)).statusCode, 204)
    const revoked = await api('GET', '/api/v1/senders')
    t.equal(revoked.statusCode, 401)
    t.match(revoked.json().message, /Unknown or revoked API key/)
    t.equal((await admin('DELETE', `/api/v1/tenants/${id}/api-keys/${keys[0].id}`)).statusCode, 404, 'revoking twice is a 404')
  })

  t.test('keys are stored as hashes only', async (t) => {
    const { id, api } = await newTenant(app, 'Hashing')
    const rows = await database.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', id).execute()
    t.equal(rows.length, 1)
    t.not(rows[0]?.key_hash, api.key)
    t.ok(api.key.startsWith(rows[0]?.prefix ?? '-'), 'the prefix recognises the key')
    t.notOk(JSON.stringify(rows).includes(api.key))
  })

  t.test('the two scopes never stand in for each other', async (t) => {
    const { api } = await newTenant(app, 'Scopes')
    const asTenant = await api('GET', '/api/v1/tenants')
    t.equal(asTenant.statusCode, 403)
    t.match(asTenant.json().message, /needs the instance-admin key/)
    const asAdmin = await admin('GET', '/api/v1/senders')
    t.equal(asAdmin.statusCode, 403)
    t.match(asAdmin.json().message, /instance-admin key, which has no tenant: create a tenant key/)
  })

  t.test('an id that is not a uuid answers 400', async (t) => {
    const res = await admin('GET', '/api/v1/tenants/42')
    t.equal(res.statusCode, 400)
    t.match(res.json().details, [{ field: 'id' }])
  })
})
