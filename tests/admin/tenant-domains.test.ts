import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Migrator } from 'kysely'
import t from 'tap'
import { migrations } from '../../migrations/index.js'
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { domainsClaimedTwice } from '../../src/resources/tenant-domains.js'
import { ADMIN_KEY, client, newTenant } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { runCli } from '../support/cli.js'
import { createTestDatabase, testDatabaseKind, testDatabaseUrl } from '../support/database.js'
import { startDnsServer } from '../support/dns-server.js'

// Tenants own their mail domains (issue #28, item 13): a mailbox or console user is registered
// only in one of them, a domain has one owner, and a refusal never tells one tenant what exists in
// another.

t.test(`tenant domains on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const admin = client(app, ADMIN_KEY)

  t.test('the instance admin sets domains; they are answered in one form', async (t) => {
    const created = await admin('POST', '/api/v1/tenants', { name: 'Почта', maxMailboxes: 2, domains: ['XN--80A1ACNY.xn--p1ai', 'Pochta.example.'] })
    t.equal(created.statusCode, 201, created.body)
    t.same(created.json().domains, ['pochta.example', 'почта.рф'])
    const id = created.json().id as string
    const patched = await admin('PATCH', `/api/v1/tenants/${id}`, { domains: ['pochta.example'] })
    t.same(patched.json().domains, ['pochta.example'])
    t.same((await admin('GET', `/api/v1/tenants/${id}`)).json().domains, ['pochta.example'])
    const listed = (await admin('GET', '/api/v1/tenants')).json().items.find((tenant: { id: string }) => tenant.id === id)
    t.same(listed.domains, ['pochta.example'])
    const bad = await admin('PATCH', `/api/v1/tenants/${id}`, { domains: ['not a domain'] })
    t.equal(bad.statusCode, 400)
    t.match(bad.json().details, [{ field: 'domains/0', message: /"not a domain" is not a domain name/ }])
  })

  t.test('a domain belongs to one tenant, even when two claim it at once', async (t) => {
    const owner = await newTenant(app, 'Owner Co', 3, ['owner.example'])
    const other = await newTenant(app, 'Other Co', 3, ['other.example'])
    const taken = await admin('PATCH', `/api/v1/tenants/${other.id}`, { domains: ['other.example', 'OWNER.example'] })
    t.equal(taken.statusCode, 409)
    t.match(taken.json().message, /owner\.example belongs to another tenant/)
    t.same((await admin('GET', `/api/v1/tenants/${other.id}`)).json().domains, ['other.example'], 'nothing changed')
    t.equal((await admin('POST', '/api/v1/tenants', { name: 'Third Co', maxMailboxes: 1, domains: ['owner.example'] })).statusCode, 409)
    t.equal((await admin('GET', '/api/v1/tenants')).json().items.filter((tenant: { name: string }) => tenant.name === 'Third Co').length, 0, 'the tenant was not half-created')

    const racers = await Promise.all([owner.id, other.id].map(async (id) => await admin('PATCH', `/api/v1/tenants/${id}`, { domains: ['contested.example'] })))
    t.same(racers.map((answer) => answer.statusCode).sort(), [200, 409])
  })

  t.test("a tenant cannot register an address in another tenant's domain, and cannot tell whether it is taken", async (t) => {
    const acme = await newTenant(app, 'Acme', 3, ['acme.example'])
    const globex = await newTenant(app, 'Globex', 3, ['globex.example'])
    t.equal((await acme.api('POST', '/api/v1/mailboxes', { address: 'robots@acme.example' })).statusCode, 201)
    t.equal((await acme.api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga', role: 'admin' })).statusCode, 201)

    const squatTaken = await globex.api('POST', '/api/v1/mailboxes', { address: 'robots@acme.example' })
    const squatFree = await globex.api('POST', '/api/v1/mailboxes', { address: 'nobody@acme.example' })
    t.equal(squatTaken.statusCode, 400)
    t.same(squatTaken.json(), squatFree.json(), 'the same answer whether or not the address is registered')
    t.match(squatTaken.json().details, [{ field: 'address', message: "must be an address in this tenant's domains (globex.example); to use another domain, ask the instance admin to add it to the tenant" }])

    const userTaken = await globex.api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga', role: 'admin' })
    const userFree = await globex.api('POST', '/api/v1/users', { email: 'ivan@acme.example', name: 'Ivan', role: 'admin' })
    t.equal(userTaken.statusCode, 400)
    t.same(userTaken.json(), userFree.json(), 'a console user elsewhere is not revealed either')

    const mine = (await globex.api('POST', '/api/v1/mailboxes', { address: 'robots@globex.example' })).json()
    const moved = await globex.api('PATCH', `/api/v1/mailboxes/${String(mine.id)}`, { address: 'robots@acme.example' })
    t.equal(moved.statusCode, 400, 'nor by renaming a mailbox it has')
    t.same(moved.json(), squatFree.json())
    const stored = await database.db.selectFrom('mailboxes').select('address').where('tenant_id', '=', globex.id).execute()
    t.same(stored, [{ address: 'robots@globex.example' }])
  })

  t.test('a tenant without domains is told who sets them; a domain taken away keeps its mailboxes', async (t) => {
    const bare = await newTenant(app, 'Bare', 3, [])
    const refused = await bare.api('POST', '/api/v1/mailboxes', { address: 'robots@bare.example' })
    t.equal(refused.statusCode, 400)
    t.match(refused.json().details, [{ field: 'address', message: /this tenant has no mail domains\. The instance admin sets them \(PATCH \/api\/v1\/tenants\/\{id\} with "domains"\)/ }])

    t.equal((await admin('PATCH', `/api/v1/tenants/${bare.id}`, { domains: ['bare.example'] })).statusCode, 200)
    const mailbox = await bare.api('POST', '/api/v1/mailboxes', { address: 'robots@bare.example' })
    t.equal(mailbox.statusCode, 201)
    t.equal((await admin('PATCH', `/api/v1/tenants/${bare.id}`, { domains: ['bare2.example'] })).statusCode, 200)
    t.equal((await bare.api('GET', `/api/v1/mailboxes/${String(mailbox.json().id)}`)).statusCode, 200, 'the registered mailbox stays')
    t.equal((await bare.api('PATCH', `/api/v1/mailboxes/${String(mailbox.json().id)}`, { active: false })).statusCode, 200, 'and can still be changed')
    t.equal((await bare.api('POST', '/api/v1/mailboxes', { address: 'more@bare.example' })).statusCode, 400, 'new ones follow the domains')
  })
})

t.test(`the migration gives each tenant its mailboxes' domains; one used by two is reported by doctor (${testDatabaseKind})`, async (t) => {
  let database: DatabaseHandle
  let env: Record<string, string>
  if (testDatabaseUrl !== undefined) {
    database = await createTestDatabase(t, { migrate: false })
    env = { DATABASE_URL: (database as { url?: string }).url ?? '' }
  } else {
    const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-domains-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    database = await openDatabase({ kind: 'pglite', dataDir: dir })
    env = { MAILRUN_DATA_DIR: dir }
  }
  const { db } = database
  const names = Object.keys(migrations)
  const before = names[names.indexOf('20261207T0000-tenant-domains') - 1] ?? ''
  t.notOk((await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateTo(before)).error)
  const tenant = async (name: string): Promise<string> => (await db.insertInto('tenants').values({ name, max_mailboxes: 5 }).returning('id').executeTakeFirstOrThrow()).id
  const mailbox = async (tenantId: string, address: string): Promise<void> => {
    await db.insertInto('mailboxes').values({ tenant_id: tenantId, address, ingress_token_hash: randomBytes(16).toString('hex') }).execute()
  }
  const acme = await tenant('Acme')
  const globex = await tenant('Globex')
  await mailbox(acme, 'robots@acme.example')
  await mailbox(acme, 'finance@acme.example')
  await mailbox(acme, 'shared@both.example')
  await mailbox(globex, 'robots@globex.example')
  await mailbox(globex, 'other@both.example')
  t.ok((await migrateToLatest(db)).includes('20261207T0000-tenant-domains'))

  const owned = await db.selectFrom('tenant_domains').select(['tenant_id', 'domain', 'claimed_twice']).orderBy('domain').orderBy('tenant_id').execute()
  t.same(owned.filter((row) => row.tenant_id === acme).map((row) => row.domain), ['acme.example', 'both.example'])
  t.same(owned.filter((row) => row.tenant_id === globex).map((row) => row.domain), ['both.example', 'globex.example'])
  t.same(owned.filter((row) => row.claimed_twice).map((row) => row.domain), ['both.example', 'both.example'])
  t.same(await domainsClaimedTwice(db), [{ domain: 'both.example', tenants: ['Acme', 'Globex'] }])
  if (testDatabaseUrl === undefined) await database.close()

  const dns = await startDnsServer({})
  t.teardown(dns.close)
  const report = await runCli(['doctor'], { ...env, MAILRUN_SECRET_KEY: randomBytes(32).toString('base64'), MAILRUN_DNS_SERVERS: dns.address, MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' })
  t.match(report.stdout, /^! domain both\.example: is claimed by "Acme" and "Globex" \(their mailboxes predate tenant domains\): a domain belongs to one tenant\./m, report.stdout + report.stderr)
  t.notMatch(report.stdout, /domain acme\.example/, 'a domain with one owner is not reported')
})
