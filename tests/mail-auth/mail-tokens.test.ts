import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createSecretBox } from '../../src/crypto/secret-box.js'
import type { ImapSettings, MailAuth, SealedOAuthSecret } from '../../src/db/schema.js'
import { createMailTokens, type MailboxSignIn } from '../../src/mail-auth/mail-tokens.js'
import { MailTokenError } from '../../src/mail-auth/token-endpoint.js'
import { outboundDispatcher } from '../../src/net/outbound-dispatcher.js'
import { buildOutboundPolicy } from '../../src/net/outbound-guard.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { EXCHANGE_SCOPE, GMAIL_SCOPE, startIdentityStandIn } from '../support/identity-stand-in.js'
import { googleServiceAccount, selfSignedCertificate } from '../support/oauth-credentials.js'

// Access tokens for OAuth2 mailboxes against the token endpoints' stand-in: each kind's request
// as the provider checks it, the cache, one request for many callers, rotated refresh tokens
// sealed back, and the provider's own words when it refuses.

const USER = 'robots@acme.example'

t.test(`mail tokens, on ${testDatabaseKind}`, async (t) => {
  const idp = await startIdentityStandIn()
  t.teardown(idp.close)
  const database = await createTestDatabase(t)
  const { db } = database
  const secrets = createSecretBox(randomBytes(32))
  const dispatcher = outboundDispatcher('none')
  t.teardown(async () => { await dispatcher.close() })
  const tenant = await db.insertInto('tenants').values({ name: 'Acme', max_mailboxes: 20 }).returning('id').executeTakeFirstOrThrow()
  let n = 0

  /** A mailbox row whose IMAP settings sign in with `auth` and `secret`. */
  async function mailbox (auth: MailAuth, secret: SealedOAuthSecret): Promise<MailboxSignIn> {
    const imap: ImapSettings = { host: '127.0.0.1', port: 143, tls: false, user: USER, folders: [], auth }
    const row = await db.insertInto('mailboxes').values({ tenant_id: tenant.id, address: `box${n++}@acme.example`, ingress_token_hash: randomBytes(16).toString('hex'), imap: JSON.stringify(imap), imap_password_enc: secrets.seal(JSON.stringify(secret)) })
      .returning(['id', 'imap_password_enc']).executeTakeFirstOrThrow()
    return { id: row.id, imap, imap_password_enc: row.imap_password_enc, smtp: null, smtp_password_enc: null }
  }
  const fresh = () => createMailTokens({ db, secrets, http: { dispatcher, deny: 'none' } })

  t.test('Microsoft, client secret: one request for many callers, then the cache', async (t) => {
    idp.microsoft.push({ tenant: 'acme.onmicrosoft.com', clientId: 'app-secret', secret: 'the-secret-value', mailboxes: [USER] })
    const row = await mailbox({ kind: 'microsoft', tenantId: 'acme.onmicrosoft.com', clientId: 'app-secret', authority: idp.url, x5t: null, thumbprint: null }, { clientSecret: 'the-secret-value' })
    const tokens = fresh()
    const before = idp.requests.length
    const got = await Promise.all(Array.from({ length: 5 }, async () => await tokens.credential(row, 'imap')))
    t.equal(idp.requests.length - before, 1, 'five callers at once, one token request')
    const request = idp.requests.at(-1)
    t.match(request, { path: '/acme.onmicrosoft.com/oauth2/v2.0/token', form: { grant_type: 'client_credentials', client_id: 'app-secret', client_secret: 'the-secret-value', scope: EXCHANGE_SCOPE } })
    const token = (got[0] as { accessToken: string }).accessToken
    t.ok(got.every((c) => 'accessToken' in c && c.accessToken === token && c.user === USER))
    t.ok(idp.allows(token, USER))
    await tokens.credential(row, 'imap')
    t.equal(idp.requests.length - before, 1, 'the cached token is reused')
    tokens.invalidate(row.id, token)
    const again = await tokens.credential(row, 'imap')
    t.equal(idp.requests.length - before, 2, 'a refused token is not reused')
    t.not((again as { accessToken: string }).accessToken, token)
  })

  t.test('Microsoft, certificate: a signed assertion instead of a secret', async (t) => {
    const cert = selfSignedCertificate('mailrun-test')
    idp.microsoft.push({ tenant: 'acme-cert', clientId: 'app-cert', certificate: cert.certificate, mailboxes: [USER] })
    const { X509Certificate, createHash } = await import('node:crypto')
    const x5t = createHash('sha1').update(new X509Certificate(cert.certificate).raw).digest('base64url')
    const row = await mailbox({ kind: 'microsoft', tenantId: 'acme-cert', clientId: 'app-cert', authority: idp.url, x5t, thumbprint: 'x' }, { privateKey: cert.privateKey })
    const c = await fresh().credential(row, 'imap')
    t.ok('accessToken' in c && idp.allows(c.accessToken, USER))
    const form = idp.requests.at(-1)?.form ?? {}
    t.equal(form.client_secret, undefined, 'no secret is sent')
    t.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')

    const other = selfSignedCertificate('someone-else')
    const wrong = await mailbox({ kind: 'microsoft', tenantId: 'acme-cert', clientId: 'app-cert', authority: idp.url, x5t, thumbprint: 'x' }, { privateKey: other.privateKey })
    const error = await fresh().credential(wrong, 'imap').catch((e: unknown) => e)
    t.ok(error instanceof MailTokenError && error.refused, 'a key that is not the certificate\'s is refused for good')
    t.match((error as Error).message, /answered 401: invalid_client: AADSTS700027: /)
  })

  t.test('Microsoft refusals carry the provider\'s words, first line only', async (t) => {
    idp.microsoft.push({ tenant: 'acme-bad', clientId: 'app-bad', secret: 'right', mailboxes: [USER] })
    const row = await mailbox({ kind: 'microsoft', tenantId: 'acme-bad', clientId: 'app-bad', authority: idp.url, x5t: null, thumbprint: null }, { clientSecret: 'wrong' })
    const error = await fresh().credential(row, 'imap').catch((e: unknown) => e) as MailTokenError
    t.ok(error instanceof MailTokenError)
    t.equal(error.refused, true)
    t.match(error.message, /^token endpoint http:\/\/127\.0\.0\.1:\d+\/acme-bad\/oauth2\/v2\.0\/token answered 401: invalid_client: AADSTS7000215: Invalid client secret provided\./)
    t.notMatch(error.message, /Trace ID|Correlation ID/, 'trace lines are left out')
    t.notMatch(error.message, /wrong/, 'the secret sent is not repeated')
    const unknownTenant = await mailbox({ kind: 'microsoft', tenantId: 'nobody', clientId: 'app-bad', authority: idp.url, x5t: null, thumbprint: null }, { clientSecret: 'right' })
    t.match((await fresh().credential(unknownTenant, 'imap').catch((e: unknown) => e) as Error).message, /400: invalid_request: AADSTS90002: Tenant 'nobody' not found/)
  })

  t.test('Google: a JWT-bearer grant acting as the mailbox, and a missing delegation', async (t) => {
    idp.google.users.push(USER)
    const key = JSON.parse(googleServiceAccount(idp, { email: 'robots@acme.iam.gserviceaccount.com' })) as { client_email: string, private_key: string, private_key_id: string, token_uri: string }
    const row = await mailbox({ kind: 'google', clientEmail: key.client_email, tokenUri: key.token_uri, privateKeyId: key.private_key_id }, { privateKey: key.private_key })
    const c = await fresh().credential(row, 'imap')
    t.ok('accessToken' in c && idp.allows(c.accessToken, USER), 'the token opens the mailbox it acted as')
    t.ok('accessToken' in c && !idp.allows(c.accessToken, 'someone@acme.example'), 'and no other')
    const assertion = idp.requests.at(-1)?.form.assertion ?? ''
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
    t.match(claims, { iss: key.client_email, sub: USER, scope: GMAIL_SCOPE, aud: key.token_uri })

    const undelegated = JSON.parse(googleServiceAccount(idp, { email: 'nodelegation@acme.iam.gserviceaccount.com', delegated: false })) as typeof key
    const row2 = await mailbox({ kind: 'google', clientEmail: undelegated.client_email, tokenUri: undelegated.token_uri, privateKeyId: undelegated.private_key_id }, { privateKey: undelegated.private_key })
    const error = await fresh().credential(row2, 'imap').catch((e: unknown) => e) as MailTokenError
    t.ok(error.refused)
    t.match(error.message, /401: unauthorized_client: Client is unauthorized to retrieve access tokens/)
  })

  t.test('a rotated refresh token is sealed back and used next time', async (t) => {
    idp.refresh.clients.push({ clientId: 'yandex-app', secret: 'yandex-secret', rotate: true })
    idp.refresh.tokens.set('refresh-1', { clientId: 'yandex-app', user: USER })
    const row = await mailbox({ kind: 'oauth_refresh', tokenUrl: `${idp.url}/oauth/token`, clientId: 'yandex-app', scope: null, hasClientSecret: true }, { clientSecret: 'yandex-secret', refreshToken: 'refresh-1' })
    const tokens = fresh()
    const first = await tokens.credential(row, 'imap')
    t.ok('accessToken' in first)
    const stored = await db.selectFrom('mailboxes').select('imap_password_enc').where('id', '=', row.id).executeTakeFirstOrThrow()
    const sealed = JSON.parse(secrets.open(stored.imap_password_enc ?? '')) as SealedOAuthSecret
    t.not(sealed.refreshToken, 'refresh-1', 'the new refresh token replaced the old one')
    t.ok(idp.refresh.tokens.has(sealed.refreshToken ?? ''), 'and it is the one the server handed out')
    t.equal(sealed.clientSecret, 'yandex-secret', 'the client secret is kept')
    t.notOk(idp.refresh.tokens.has('refresh-1'), 'the old one is dead at the server')
    // A restarted instance (no cache) reads the rotated token from the database.
    const after = await fresh().credential({ ...row, imap_password_enc: stored.imap_password_enc }, 'imap')
    t.ok('accessToken' in after && idp.allows(after.accessToken, USER))
    // A refresh token the provider revoked is refused with the provider's words.
    const current = JSON.parse(secrets.open((await db.selectFrom('mailboxes').select('imap_password_enc').where('id', '=', row.id).executeTakeFirstOrThrow()).imap_password_enc ?? '')) as SealedOAuthSecret
    idp.refresh.tokens.delete(current.refreshToken ?? '')
    const revoked = await fresh().credential(row, 'imap').catch((e: unknown) => e) as MailTokenError
    t.match(revoked.message, /400: invalid_grant: Token has been expired or revoked\./)
  })

  t.test('a provider that rotates refresh tokens and issues 5-minute access tokens: IMAP and SMTP share one token, and a caller holding an old row still signs in (#28)', async (t) => {
    const lifetime = idp.lifetimeS
    idp.lifetimeS = 300
    t.teardown(() => { idp.lifetimeS = lifetime })
    idp.refresh.clients.push({ clientId: 'keycloak-app', secret: 'keycloak-secret', rotate: true })
    idp.refresh.tokens.set('kc-refresh-1', { clientId: 'keycloak-app', user: USER })
    const imapRow = await mailbox({ kind: 'oauth_refresh', tokenUrl: `${idp.url}/oauth/token`, clientId: 'keycloak-app', scope: null, hasClientSecret: true }, { clientSecret: 'keycloak-secret', refreshToken: 'kc-refresh-1' })
    // As the mailbox test reads it: once, before any step, SMTP signing in as IMAP does.
    const row: MailboxSignIn = { ...imapRow, smtp: { host: '127.0.0.1', port: 25, tls: false, user: USER, fromName: 'Robots', auth: { kind: 'same_as_imap' } }, smtp_password_enc: null }
    const tokens = fresh()
    const refreshes = (): number => idp.requests.filter((r) => r.path === '/oauth/token').length
    const before = refreshes()
    const imap = await tokens.credential(row, 'imap')
    const smtp = await tokens.credential(row, 'smtp')
    t.ok('accessToken' in imap && 'accessToken' in smtp && imap.accessToken === smtp.accessToken, 'one token for IMAP and SMTP while it is valid')
    t.equal(refreshes() - before, 1, 'a 5-minute token is served from the cache: one refresh spent, not one per sign-in')
    // Another instance (or a restarted one) with the row as it was read before the rotation.
    const other = await fresh().credential(row, 'smtp')
    t.ok('accessToken' in other && idp.allows(other.accessToken, USER), 'the current refresh token was read, not the one the stale row holds')
    t.equal(refreshes() - before, 2)
  })

  t.test('an endpoint that cannot answer now is not a refusal', async (t) => {
    const row = await mailbox({ kind: 'oauth_refresh', tokenUrl: 'http://127.0.0.1:9/oauth/token', clientId: 'x', scope: null, hasClientSecret: false }, { refreshToken: 'r' })
    const error = await fresh().credential(row, 'imap').catch((e: unknown) => e) as MailTokenError
    t.ok(error instanceof MailTokenError)
    t.equal(error.refused, false, 'the sweeper retries soon rather than backing off for a fix')
    t.match(error.message, /could not be reached: ECONNREFUSED/)
  })

  t.test('the deny list holds for token endpoints (refused before any connection)', async (t) => {
    const denying = createMailTokens({ db, secrets, http: { dispatcher, deny: buildOutboundPolicy({ deny: '10.0.0.0/8' }) } })
    const row = await mailbox({ kind: 'oauth_refresh', tokenUrl: 'http://10.1.2.3/oauth/token', clientId: 'x', scope: null, hasClientSecret: false }, { refreshToken: 'r' })
    const error = await denying.credential(row, 'imap').catch((e: unknown) => e) as MailTokenError
    t.ok(error instanceof MailTokenError && error.refused)
    t.match(error.message, /10\.1\.2\.3/)
  })
})
