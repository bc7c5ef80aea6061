import t from 'tap'
import { hashIngressToken } from '../../src/admin/ingress-token.js'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'

const imap = { host: 'imap.example.net', port: 993, tls: true, user: 'robots@acme.example', password: 'imap-app-password-1' }
const smtp = { host: 'smtp.example.net', port: 465, tls: true, user: 'robots@acme.example', password: 'smtp-password-1', fromName: 'Acme robots' }

t.test(`service mailboxes through HTTP on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example/' } })
  const db = database.db

  t.test('creating a mailbox answers the ingress token and the three URLs, and stores only the token hash', async (t) => {
    const { api } = await newTenant(app, 'Ingress')
    const res = await api('POST', '/api/v1/mailboxes', { address: 'Robots@Ingress.example', mailgunSigningKey: 'mg-signing-key-1', imap, smtp })
    t.equal(res.statusCode, 201)
    const mailbox = res.json()
    t.equal(mailbox.address, 'robots@ingress.example')
    t.equal(mailbox.senderAuth, 'dmarc')
    t.match(mailbox.ingressToken, /^[A-Za-z0-9_-]{32}$/)
    t.same(mailbox.ingressUrls, {
      mime: `https://mailrun.acme.example/inbound/${mailbox.ingressToken}/mime`,
      mailgun: `https://mailrun.acme.example/inbound/${mailbox.ingressToken}/mailgun`,
      sendgrid: `https://mailrun.acme.example/inbound/${mailbox.ingressToken}/sendgrid`
    })
    t.same(mailbox.mailgunSigningKey, { set: true })
    t.same(mailbox.imap, { host: imap.host, port: 993, tls: true, user: imap.user, password: { set: true }, auth: { kind: 'password' }, folders: [], afterProcessing: 'leave', processedFolder: null, rejectedFolder: null })
    t.same(mailbox.smtp, { host: smtp.host, port: 465, tls: true, user: smtp.user, password: { set: true }, auth: { kind: 'password' }, fromName: 'Acme robots' })
    t.ok(mailbox.imapStatus.configuredAt, 'the moment IMAP was configured is kept')

    const row = await db.selectFrom('mailboxes').selectAll().where('id', '=', mailbox.id).executeTakeFirstOrThrow()
    t.equal(row.ingress_token_hash, hashIngressToken(mailbox.ingressToken))
    const stored = JSON.stringify(row)
    for (const secret of [mailbox.ingressToken, 'mg-signing-key-1', imap.password, smtp.password]) t.notOk(stored.includes(secret), 'no secret stored in clear')
    t.match(row.imap_password_enc, /^v1:/)

    const read = (await api('GET', `/api/v1/mailboxes/${mailbox.id}`)).json()
    t.notOk('ingressToken' in read, 'the token is not shown again')
    t.same(read.imap.password, { set: true })
  })

  t.test('rotating the token issues a new one and the old hash stops matching', async (t) => {
    const { api } = await newTenant(app, 'Rotate')
    const first = (await api('POST', '/api/v1/mailboxes', { address: 'rotate@rotate.example' })).json()
    const rotated = await api('POST', `/api/v1/mailboxes/${first.id}/rotate-token`)
    t.equal(rotated.statusCode, 200)
    t.not(rotated.json().ingressToken, first.ingressToken)
    const row = await db.selectFrom('mailboxes').select('ingress_token_hash').where('id', '=', first.id).executeTakeFirstOrThrow()
    t.equal(row.ingress_token_hash, hashIngressToken(rotated.json().ingressToken))
  })

  t.test('the ingress URLs can be read again (the token is kept sealed); a mailbox from before must rotate once', async (t) => {
    const { api } = await newTenant(app, 'Again')
    const created = (await api('POST', '/api/v1/mailboxes', { address: 'again@again.example' })).json()
    const again = await api('GET', `/api/v1/mailboxes/${created.id}/ingress`)
    t.equal(again.statusCode, 200)
    t.match(again.json(), { ingressToken: created.ingressToken, ingressUrls: created.ingressUrls })
    const stored = await db.selectFrom('mailboxes').select('ingress_token_enc').where('id', '=', created.id).executeTakeFirstOrThrow()
    t.match(stored.ingress_token_enc, /^v1:/, 'sealed, not in clear')
    await db.updateTable('mailboxes').set({ ingress_token_enc: null }).where('id', '=', created.id).execute()
    const old = await api('GET', `/api/v1/mailboxes/${created.id}/ingress`)
    t.equal(old.statusCode, 409)
    t.match(old.json().message, /rotate-token/)
    const rotated = (await api('POST', `/api/v1/mailboxes/${created.id}/rotate-token`)).json()
    t.equal((await api('GET', `/api/v1/mailboxes/${created.id}/ingress`)).json().ingressToken, rotated.ingressToken)
    const { api: other } = await newTenant(app, 'Other')
    t.equal((await other('GET', `/api/v1/mailboxes/${created.id}/ingress`)).statusCode, 404)
  })

  t.test('the licence limit answers 409 and says so', async (t) => {
    const { api } = await newTenant(app, 'Licensed', 2)
    t.equal((await api('POST', '/api/v1/mailboxes', { address: 'one@licensed.example' })).statusCode, 201)
    t.equal((await api('POST', '/api/v1/mailboxes', { address: 'two@licensed.example' })).statusCode, 201)
    const third = await api('POST', '/api/v1/mailboxes', { address: 'three@licensed.example' })
    t.equal(third.statusCode, 409)
    t.match(third.json().message, /licence limit reached: tenant "Licensed" may have 2 service mailbox\(es\) and has 2/)
  })

  t.test('concurrent creates cannot exceed the licence limit', async (t) => {
    const { id, api } = await newTenant(app, 'Racing', 3)
    const answers = await Promise.all(Array.from({ length: 8 }, (_v, i) => api('POST', '/api/v1/mailboxes', { address: `race${i}@racing.example` })))
    t.equal(answers.filter((a) => a.statusCode === 201).length, 3)
    t.equal(answers.filter((a) => a.statusCode === 409).length, 5)
    const count = await db.selectFrom('mailboxes').where('tenant_id', '=', id).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    t.equal(Number(count.n), 3)
  })

  t.test('an address is unique: a second mailbox at it is refused', async (t) => {
    const a = await newTenant(app, 'Owner')
    t.equal((await a.api('POST', '/api/v1/mailboxes', { address: 'taken@owner.example' })).statusCode, 201)
    const dup = await a.api('POST', '/api/v1/mailboxes', { address: 'TAKEN@owner.example' })
    t.equal(dup.statusCode, 409)
    t.match(dup.json().message, /already registered/)
  })

  t.test('PATCH keeps stored secrets that are left out, and null clears them', async (t) => {
    const { api } = await newTenant(app, 'Patching')
    const mailbox = (await api('POST', '/api/v1/mailboxes', { address: 'patch@patching.example', imap, sendgridBasicAuth: { username: 'sg', password: 'sg-pass-1' } })).json()
    const before = await db.selectFrom('mailboxes').select(['imap_password_enc', 'imap_configured_at']).where('id', '=', mailbox.id).executeTakeFirstOrThrow()
    const moved = await api('PATCH', `/api/v1/mailboxes/${mailbox.id}`, { imap: { host: 'imap2.example.net', user: imap.user, folders: ['Robots'] } })
    t.equal(moved.statusCode, 200)
    t.same(moved.json().imap, { host: 'imap2.example.net', port: 993, tls: true, user: imap.user, password: { set: true }, auth: { kind: 'password' }, folders: ['Robots'], afterProcessing: 'leave', processedFolder: null, rejectedFolder: null })
    const after = await db.selectFrom('mailboxes').select(['imap_password_enc', 'imap_configured_at']).where('id', '=', mailbox.id).executeTakeFirstOrThrow()
    t.equal(after.imap_password_enc, before.imap_password_enc, 'the password is kept')
    t.ok((after.imap_configured_at?.getTime() ?? 0) >= (before.imap_configured_at?.getTime() ?? Infinity), 'the sweep starting point moves with the settings')

    const cleared = (await api('PATCH', `/api/v1/mailboxes/${mailbox.id}`, { sendgridBasicAuth: null, imap: null })).json()
    t.equal(cleared.sendgridBasicAuth, null)
    t.equal(cleared.imap, null)
  })

  t.test('IMAP settings without a password are refused on create', async (t) => {
    const { api } = await newTenant(app, 'NoPassword')
    const res = await api('POST', '/api/v1/mailboxes', { address: 'nopass@nopassword.example', imap: { host: 'imap.example.net', user: 'x' } })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { details: [{ field: 'imap.password', message: 'is required' }] })
  })

  t.test('senderAuth off is allowed but the mailbox says why it is risky', async (t) => {
    const { api } = await newTenant(app, 'Risky')
    const res = (await api('POST', '/api/v1/mailboxes', { address: 'risky@risky.example', senderAuth: 'off' })).json()
    t.match(res.warnings, [/senderAuth is off: anyone who forges the From address/])
  })

  t.test('delete removes the mailbox', async (t) => {
    const { api } = await newTenant(app, 'Deleting')
    const mailbox = (await api('POST', '/api/v1/mailboxes', { address: 'gone@deleting.example' })).json()
    t.equal((await api('DELETE', `/api/v1/mailboxes/${mailbox.id}`)).statusCode, 204)
    t.equal((await api('GET', `/api/v1/mailboxes/${mailbox.id}`)).statusCode, 404)
  })
})

t.test('tenant-supplied hosts in MAILRUN_OUTBOUND_DENY are refused', async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: '127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10' } })
  const { api } = await newTenant(app, 'Guarded')
  for (const host of ['127.0.0.1', '169.254.169.254', 'localhost', '[::1]']) {
    const res = await api('POST', '/api/v1/mailboxes', { address: `guard-${host.replace(/\W/g, '')}@guarded.example`, imap: { ...imap, host } })
    t.equal(res.statusCode, 400, `${host} is refused`)
    t.match(res.json().details, [{ field: 'imap.host', message: /may not connect to \(MAILRUN_OUTBOUND_DENY;/ }])
  }
  const smtpDenied = await api('POST', '/api/v1/mailboxes', { address: 'guard-smtp@guarded.example', smtp: { ...smtp, host: '127.0.0.5' } })
  t.match(smtpDenied.json().details, [{ field: 'smtp.host' }])
  t.equal((await api('POST', '/api/v1/mailboxes', { address: 'guard-ok@guarded.example', imap: { ...imap, host: '192.0.2.10' } })).statusCode, 201, 'other addresses are fine')
})
