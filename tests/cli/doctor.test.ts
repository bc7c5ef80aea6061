import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createSecretBox } from '../../src/crypto/secret-box.js'
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { ADMIN_KEY } from '../support/admin.js'
import { runCli } from '../support/cli.js'
import { createTestDatabase, testDatabaseUrl } from '../support/database.js'
import { startDnsServer } from '../support/dns-server.js'
import { launchDovecot, needsDovecot } from '../support/dovecot.js'
import { setUpLaunching } from '../support/launching.js'
import { captureLogger } from '../support/logger.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher } from '../support/smtp.js'

// `mailrun doctor` against real servers: the tenant's Orchestrator (the simulator), its IMAP
// mailbox (Dovecot), its SMTP server and a DNS server; then each of them broken, one report.

t.test('doctor checks every part, then names each broken one with what to fix', async (t) => {
  if (!needsDovecot(t)) return
  const secretKey = randomBytes(32)
  // The database the command will open on its own: this test's PostgreSQL database, or a PGlite directory.
  let env: Record<string, string>
  let database: DatabaseHandle
  if (testDatabaseUrl !== undefined) {
    database = await createTestDatabase(t)
    env = { DATABASE_URL: (database as { url?: string }).url ?? '' }
  } else {
    const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-doctor-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    database = await openDatabase({ kind: 'pglite', dataDir: dir })
    await migrateToLatest(database.db)
    env = { MAILRUN_DATA_DIR: dir }
  }
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const smtp = await startSmtpCatcher()
  t.teardown(smtp.close)
  const dovecot = await launchDovecot({ 'robots@acme.example': 'app-password-1' })
  t.teardown(dovecot.destroy)
  const dns = await startDnsServer({ '_dmarc.acme.example': 'v=DMARC1; p=reject' })
  t.teardown(dns.close)

  const app = await buildApp({ config: loadConfig({ MAILRUN_ADMIN_KEY: ADMIN_KEY, MAILRUN_OUTBOUND_DENY: 'none' }), database, logger: captureLogger('warn').logger, secrets: createSecretBox(secretKey) })
  const setup = await setUpLaunching(app, sim)
  const patched = await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, {
    imap: { host: dovecot.host, port: dovecot.port, tls: false, user: 'robots@acme.example', password: 'app-password-1' },
    smtp: { host: '127.0.0.1', port: smtp.port, tls: false }
  })
  t.equal(patched.statusCode, 200, patched.body)
  await app.close()
  if (testDatabaseUrl === undefined) await database.close()

  const doctorEnv = { ...env, MAILRUN_SECRET_KEY: secretKey.toString('base64'), MAILRUN_OUTBOUND_ALLOW: '127.0.0.1', MAILRUN_DNS_SERVERS: dns.address, MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' }
  const healthy = await runCli(['doctor'], doctorEnv)
  t.equal(healthy.code, 0, healthy.stdout + healthy.stderr)
  for (const line of [
    /^✓ configuration: /m,
    /^✓ public URL: https:\/\/mailrun\.acme\.example$/m,
    /^✓ secret key: MAILRUN_SECRET_KEY is set$/m,
    /^✓ database: .* answers, every migration applied$/m,
    new RegExp(`^✓ DNS for DKIM/DMARC: MAILRUN_DNS_SERVERS ${dns.address} answered for _dmarc\\.acme\\.example$`, 'm'),
    /^tenant "Acme" /m,
    /^✓ {3}Orchestrator authenticate: /m,
    /^✓ {3}Orchestrator folder: found folder "Finance"/m,
    /^✓ {3}mailbox robots@acme\.example IMAP: logged in to .* as robots@acme\.example; \d+ folders$/m,
    /^✓ {3}mailbox robots@acme\.example SMTP: 127\.0\.0\.1:\d+ accepted the connection$/m,
    /^no problems$/m
  ]) t.match(healthy.stdout, line)

  // Now everything breaks at once: a dead DNS server, Orchestrator refusing the client, IMAP gone, SMTP gone.
  const deadDns = await startDnsServer({})
  const deadDnsAddress = deadDns.address
  await deadDns.close()
  sim.fail(/connect\/token/, 400, { error: 'invalid_client' }, undefined, 10)
  await dovecot.destroy()
  await smtp.stop()
  const broken = await runCli(['doctor'], { ...doctorEnv, MAILRUN_DNS_SERVERS: deadDnsAddress, MAILRUN_PUBLIC_URL: 'http://localhost:3000', MAILRUN_ORCHESTRATOR_TIMEOUT_S: '5' })
  t.equal(broken.code, 1, broken.stdout + broken.stderr)
  for (const line of [
    /^! public URL: http:\/\/localhost:3000: MAILRUN_PUBLIC_URL points at this machine/m,
    /^✗ DNS for DKIM\/DMARC: .* gave no answer for _dmarc\.acme\.example \(E[A-Z]+\): DKIM and DMARC cannot be checked/m,
    /^✗ {3}Orchestrator authenticate: /m,
    /^✗ {3}mailbox robots@acme\.example IMAP: .*Check the host, port, tls and the app password/m,
    /^✗ {3}mailbox robots@acme\.example SMTP: .*Replies cannot be sent/m,
    /^4 problems to fix \(marked ✗ above\)$/m
  ]) t.match(broken.stdout, line)
  t.equal(broken.stderr, '', 'problems are reported, not thrown')
})

t.test('a configuration error is the first and only failure', async (t) => {
  const result = await runCli(['doctor'], { PORT: 'eighty' })
  t.equal(result.code, 1)
  t.match(result.stdout, /^✗ configuration: Invalid configuration:\n {2}- PORT: /m)
  t.notMatch(result.stdout, /database/)
})

t.test('with PostgreSQL and no secret key, the key is a failure', async (t) => {
  const result = await runCli(['doctor'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' })
  t.equal(result.code, 1)
  t.match(result.stdout, /^✗ secret key: MAILRUN_SECRET_KEY is required with DATABASE_URL/m)
  t.match(result.stdout, /^✗ database: .*Check DATABASE_URL and that the server is running\./m)
})
