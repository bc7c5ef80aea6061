import t from 'tap'
import { verifyPassword } from '../../src/auth/passwords.js'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'

t.test(`console users through the admin API on ${testDatabaseKind}`, async (t) => {
  const { app, database, log } = await buildTestApp(t)
  const db = database.db
  const acme = await newTenant(app, 'Acme')
  const globex = await newTenant(app, 'Globex')

  t.test('a user created without a password gets a one-time set-password link', async (t) => {
    const created = await acme.api('POST', '/api/v1/users', { email: 'Olga@Acme.example', name: 'Olga Ivanova', role: 'viewer' })
    t.equal(created.statusCode, 201, created.body)
    const user = created.json()
    t.match(user, { email: 'Olga@acme.example', name: 'Olga Ivanova', role: 'viewer', disabled: false, passwordSet: false, locale: null })
    t.match(user.setPasswordUrl, /^http:\/\/[^/]+\/console\/set-password\/[A-Za-z0-9_-]{43}$/)
    const token = user.setPasswordUrl.split('/').pop()
    const stored = await db.selectFrom('user_tokens').selectAll().where('user_id', '=', user.id).execute()
    t.equal(stored.length, 1)
    t.not(stored[0]?.token_hash, token, 'only the hash of the token is stored')
    t.notOk(JSON.stringify(log.lines).includes(token), 'the token is never logged')

    const read = (await acme.api('GET', `/api/v1/users/${user.id}`)).json()
    t.notOk('setPasswordUrl' in read, 'the link is shown only when it is issued')
    t.equal((await acme.api('POST', '/api/v1/users', { email: 'olga@acme.EXAMPLE', name: 'Olga again', role: 'admin' })).statusCode, 409, 'addresses are unique, case-insensitively')
    t.equal((await globex.api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga at Globex', role: 'admin' })).statusCode, 400, "another tenant's domain is refused before anything is looked up (tests/admin/tenant-domains.test.ts)")
  })

  t.test('a password given at creation is stored as a scrypt hash, never returned', async (t) => {
    const created = await acme.api('POST', '/api/v1/users', { email: 'ivan@acme.example', name: 'Ivan', role: 'admin', password: 'correct horse battery' })
    t.equal(created.statusCode, 201, created.body)
    t.match(created.json(), { passwordSet: true, setPasswordUrl: null })
    t.notOk(created.body.includes('correct horse'), 'the password is not in the answer')
    const row = await db.selectFrom('users').select('password_hash').where('id', '=', created.json().id).executeTakeFirstOrThrow()
    t.match(row.password_hash, /^scrypt\$32768\$8\$1\$/)
    t.ok(await verifyPassword('correct horse battery', row.password_hash ?? ''))
    t.notOk(await verifyPassword('correct horse battery!', row.password_hash ?? ''))
    const short = await acme.api('POST', '/api/v1/users', { email: 'short@acme.example', name: 'Short', role: 'admin', password: 'short' })
    t.equal(short.statusCode, 400)
    t.match(short.json().message, /password/)
  })

  t.test('list, change, disable and delete; another tenant sees none of it', async (t) => {
    const list = (await acme.api('GET', '/api/v1/users')).json()
    t.same(list.items.map((u: { email: string }) => u.email).sort(), ['Olga@acme.example', 'ivan@acme.example'])
    t.same((await globex.api('GET', '/api/v1/users')).json().items, [])
    const ivan = list.items.find((u: { email: string }) => u.email === 'ivan@acme.example')
    t.equal((await globex.api('GET', `/api/v1/users/${ivan.id}`)).statusCode, 404)
    t.equal((await globex.api('PATCH', `/api/v1/users/${ivan.id}`, { role: 'viewer' })).statusCode, 404)
    t.equal((await globex.api('DELETE', `/api/v1/users/${ivan.id}`)).statusCode, 404)

    await db.insertInto('console_sessions').values({ id_hash: 'h1', user_id: ivan.id, expires_at: new Date(Date.now() + 3600_000) }).execute()
    const renamed = await acme.api('PATCH', `/api/v1/users/${ivan.id}`, { name: 'Ivan Petrov', role: 'viewer', locale: 'ru' })
    t.match(renamed.json(), { name: 'Ivan Petrov', role: 'viewer', locale: 'ru' })
    t.equal((await db.selectFrom('console_sessions').select('id_hash').where('user_id', '=', ivan.id).execute()).length, 1, 'a rename keeps the sessions')
    t.match((await acme.api('PATCH', `/api/v1/users/${ivan.id}`, { disabled: true })).json(), { disabled: true })
    t.same(await db.selectFrom('console_sessions').select('id_hash').where('user_id', '=', ivan.id).execute(), [], 'disabling ends the sessions')
    t.equal((await acme.api('DELETE', `/api/v1/users/${ivan.id}`)).statusCode, 204)
    t.equal((await acme.api('GET', `/api/v1/users/${ivan.id}`)).statusCode, 404)
  })
})
