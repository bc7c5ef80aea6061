import fc from 'fast-check'
import t, { type Test } from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { selfSignedCertificate } from '../support/oauth-credentials.js'

// The sign-in part of mailbox settings through the API: what is refused (400, naming the field and
// what to do), what an update keeps, and that no body at all turns into a 5xx.

const IMAP = { host: 'imap.acme.example', port: 993, tls: true, user: 'robots@acme.example' }
const MICROSOFT = { kind: 'microsoft', tenantId: 'acme.onmicrosoft.com', clientId: '00001111-aaaa-2222-bbbb-3333cccc4444', clientSecret: 'client-secret-value' }

t.test(`mailbox sign-in settings, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: '10.0.0.0/8' } })
  const { api } = await newTenant(app, 'Acme', 50)
  let n = 0
  const create = async (mailbox: Record<string, unknown>) => await api('POST', '/api/v1/mailboxes', { address: `box${n++}@acme.example`, ...mailbox })
  const refused = async (t: Test, mailbox: Record<string, unknown>, field: string, message: RegExp) => {
    const res = await create(mailbox)
    t.equal(res.statusCode, 400)
    t.match(res.json(), { details: [{ field, message }] }, `${field}: ${res.json().message as string}`)
  }

  t.test('refused with what to fix', async (t) => {
    await refused(t, { imap: { ...IMAP, auth: { ...MICROSOFT, clientSecret: undefined } } }, 'imap.auth.clientSecret', /or certificate is required/)
    const cert = selfSignedCertificate()
    await refused(t, { imap: { ...IMAP, auth: { ...MICROSOFT, certificate: cert } } }, 'imap.auth', /clientSecret or certificate, not both/)
    await refused(t, { imap: { ...IMAP, auth: { ...MICROSOFT, clientSecret: undefined, certificate: { certificate: cert.certificate, privateKey: selfSignedCertificate().privateKey } } } }, 'imap.auth.certificate.privateKey', /does not belong to the certificate/)
    await refused(t, { imap: { ...IMAP, auth: { ...MICROSOFT, clientSecret: undefined, certificate: { certificate: 'not a certificate', privateKey: cert.privateKey } } } }, 'imap.auth.certificate.certificate', /is not an X\.509 certificate/)
    await refused(t, { imap: { ...IMAP, password: 'app-password', auth: MICROSOFT } }, 'imap.password', /is not used when signing in with microsoft/)
    await refused(t, { imap: { ...IMAP, auth: { kind: 'google', serviceAccountKey: '{"type": "authorized_user"}' } } }, 'imap.auth.serviceAccountKey', /is not a service account key/)
    await refused(t, { imap: { ...IMAP, auth: { kind: 'google', serviceAccountKey: 'client_email=x' } } }, 'imap.auth.serviceAccountKey', /is not JSON/)
    await refused(t, { imap: { ...IMAP, auth: { kind: 'google', serviceAccountKey: JSON.stringify({ type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com', private_key: 'nope' }) } } }, 'imap.auth.serviceAccountKey.private_key', /is not an unencrypted RSA private key/)
    await refused(t, { imap: { ...IMAP, auth: { kind: 'oauth_refresh', tokenUrl: 'https://oauth.yandex.com/token', clientId: 'x' } } }, 'imap.auth.refreshToken', /is required/)
    await refused(t, { smtp: { host: 'smtp.acme.example', user: 'robots@acme.example', auth: { kind: 'same_as_imap' } } }, 'smtp.auth.kind', /needs imap settings/)
    await refused(t, { smtp: { host: 'smtp.acme.example', auth: MICROSOFT } }, 'smtp.user', /is required when signing in with microsoft/)
    // Token endpoints are outbound requests like any other: the deny list holds, with no connection tried.
    await refused(t, { imap: { ...IMAP, auth: { ...MICROSOFT, authority: 'https://10.1.2.3' } } }, 'imap.auth.authority', /may not be 10\.1\.2\.3/)
    await refused(t, { imap: { ...IMAP, auth: { kind: 'oauth_refresh', tokenUrl: 'http://10.0.0.7/token', clientId: 'x', refreshToken: 'r' } } }, 'imap.auth.tokenUrl', /may not be 10\.0\.0\.7/)
    await refused(t, { graph: { baseUrl: 'https://graph.microsoft.com' } }, 'graph.auth', /is required: the Microsoft app that reads the mailbox/)
    await refused(t, { graph: { auth: MICROSOFT, baseUrl: 'https://10.9.9.9' } }, 'graph.baseUrl', /may not be 10\.9\.9\.9/)
    t.equal((await create({ graph: { auth: { kind: 'google', serviceAccountKey: '{}' } } })).statusCode, 400, 'Graph signs in with Microsoft only')
    const sameAsImapOnImap = await create({ imap: { ...IMAP, auth: { kind: 'same_as_imap' } } })
    t.equal(sameAsImapOnImap.statusCode, 400, 'same_as_imap is for smtp only')
  })

  t.test('an update keeps what it leaves out', async (t) => {
    const created = await create({ imap: { ...IMAP, auth: MICROSOFT }, smtp: { host: 'smtp.office365.com', port: 587, tls: false, user: 'robots@acme.example', auth: { kind: 'same_as_imap' } } })
    t.equal(created.statusCode, 201)
    const url = `/api/v1/mailboxes/${created.json().id as string}`
    const renamed = await api('PATCH', url, { imap: { ...IMAP, auth: { ...MICROSOFT, clientSecret: undefined, clientId: 'another-client-id' } } })
    t.equal(renamed.statusCode, 200)
    t.match(renamed.json().imap.auth, { kind: 'microsoft', clientId: 'another-client-id', clientSecret: { set: true } }, 'the secret stays when the kind does')
    const switched = await api('PATCH', url, { imap: { ...IMAP, auth: { kind: 'oauth_refresh', tokenUrl: 'https://oauth.yandex.com/token', clientId: 'y' } } })
    t.equal(switched.statusCode, 400, 'another kind brings its own secret')
    const formLike = await api('PATCH', url, { imap: { ...IMAP, folders: ['Archive'] } })
    t.equal(formLike.statusCode, 200)
    t.match(formLike.json().imap, { folders: ['Archive'], auth: { kind: 'microsoft', clientId: 'another-client-id', clientSecret: { set: true } } })
    const dropImap = await api('PATCH', url, { imap: null })
    t.equal(dropImap.statusCode, 400)
    t.match(dropImap.json().message, /smtp signs in with same_as_imap/)
    const toPassword = await api('PATCH', url, { imap: { ...IMAP, password: 'app-password', auth: { kind: 'password' } } })
    t.equal(toPassword.statusCode, 200)
    t.match(toPassword.json().imap, { password: { set: true }, auth: { kind: 'password' } })
  })

  t.test('no sign-in body is a 5xx', async (t) => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ' ', '{}', '-----BEGIN CERTIFICATE-----', 'https://10.0.0.1/x', 'http://[::1]/t', 'https://login.microsoftonline.com'))
    const auth = fc.record({
      kind: fc.constantFrom('password', 'microsoft', 'google', 'oauth_refresh', 'same_as_imap', 'other'),
      tenantId: text,
      clientId: text,
      clientSecret: text,
      certificate: fc.oneof(fc.constant(undefined), fc.record({ certificate: text, privateKey: text })),
      authority: text,
      serviceAccountKey: fc.oneof(text, fc.json()),
      tokenUrl: text,
      refreshToken: text,
      scope: text
    }, { requiredKeys: ['kind'] })
    await fc.assert(fc.asyncProperty(auth, fc.boolean(), fc.option(fc.string({ maxLength: 10 })), async (a, onSmtp, password) => {
      const settings = onSmtp
        ? { smtp: { host: 'smtp.acme.example', user: 'robots@acme.example', auth: a, ...(password !== null ? { password } : {}) } }
        : { imap: { ...IMAP, auth: a, ...(password !== null ? { password } : {}) } }
      const res = await create(settings)
      if (res.statusCode !== 201 && res.statusCode !== 400) throw new Error(`${res.statusCode} ${res.body}`)
      if (res.statusCode === 201) await api('DELETE', `/api/v1/mailboxes/${res.json().id as string}`)
    }), { numRuns: 150 })
    t.pass('every body was answered 201 or 400')
  })
})
