import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { buildApp } from '../src/app.js'
import { startBackgroundWork } from '../src/background.js'
import { loadConfig } from '../src/config.js'
import { createSecretBox } from '../src/crypto/secret-box.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { createLogger } from '../src/logger.js'
import { CHROMIUM } from '../tests/support/browser.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../tests/support/mail.js'
import { startOrchestratorSimulator } from '../src/simulator/orchestrator.js'
import { startSmtpCatcher } from '../src/simulator/mail-catcher.js'
import { repoRoot } from '../tests/support/process.js'

// npm run screenshots: a screenshot of every console page, from a freshly seeded mailrun (in-memory
// PGlite, the Orchestrator simulator, signed mail), in Debian's Chromium, to docs/screenshots/.

const out = path.join(repoRoot, 'docs/screenshots')
await mkdir(out, { recursive: true })
const adminKey = `mra_shots_${randomBytes(12).toString('hex')}`
const sender = dkimKey('finance.example')
const smtp = await startSmtpCatcher()
const config = loadConfig({ MAILRUN_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, PORT: '0', HOST: '127.0.0.1', MAILRUN_ADMIN_KEY: adminKey, MAILRUN_OUTBOUND_DENY: 'none', LOG_LEVEL: 'warn', MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example', MAILRUN_JOB_POLL_INTERVAL_S: '1' })
const database = await openDatabase({ kind: 'pglite', memory: true })
await migrateToLatest(database.db)
const app = await buildApp({ config, database, logger: createLogger('warn', false), secrets: createSecretBox(randomBytes(32)), dnsResolver: fakeDns([sender], { 'finance.example': 'v=DMARC1; p=reject' }) })
const base = await app.listen({ port: 0, host: '127.0.0.1' })
const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport', 'Payroll'], autoFinishMs: 1500, autoFinish: { state: 'Successful', output: { out_ReportUrl: 'https://files.finance.example/reports/2026-10.xlsx', out_Rows: 1284 } } })
const stop = startBackgroundWork(app)

async function api (key: string, method: string, url: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`)
  return await res.json() as Record<string, any>
}

try {
  const tenant = await api(adminKey, 'POST', '/api/v1/tenants', { name: 'Acme Finance', maxMailboxes: 3, contactEmail: 'rpa-team@acme.example', domains: ['acme.example'] })
  const key = (await api(adminKey, 'POST', `/api/v1/tenants/${tenant.id as string}/api-keys`, { name: 'RPA team' })).key as string
  await api(key, 'PUT', '/api/v1/orchestrator', { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance', webhookSecret: 'a-long-webhook-secret' })
  const mailbox = await api(key, 'POST', '/api/v1/mailboxes', { address: 'robots@acme.example' })
  const anna = await api(key, 'POST', '/api/v1/senders', { fullName: 'Anna Petrova', email: 'anna.petrova@finance.example' })
  await api(key, 'POST', '/api/v1/senders', { fullName: 'Boris Orlov', email: 'boris.orlov@finance.example' })
  const robot = await api(key, 'POST', '/api/v1/robots', {
    name: 'Monthly Report',
    processName: 'MonthlyReport',
    description: 'Builds the monthly finance report',
    senderIds: [anna.id],
    parameters: [{ name: 'period', type: 'string', required: true, description: 'The month, as 2026-10' }],
    functions: [{ name: 'ExtractData', description: 'Pull data from the ERP', parameters: [{ name: 'region', type: 'string', required: true }] }, { name: 'BuildReport' }, { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }]
  })
  await api(key, 'POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Olga Ivanova', role: 'admin', password: 'screenshots password' })
  const send = async (body: string, subject = 'Monthly Report'): Promise<Record<string, any>> => {
    const raw = await signMessage(buildMessage({ from: 'Anna Petrova <anna.petrova@finance.example>', subject, body }), sender)
    const res = await fetch(`${base}/inbound/${mailbox.ingressToken as string}/mime`, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw })
    return await res.json() as Record<string, any>
  }
  await send('period = 2026-10\nExtractData: region = North\nBuildReport\nSendReport: to = cfo@finance.example')
  const rejected = await send('period = 2026-10\nExtractData: regoin = North\nBuildReprt')
  await send('period = 2026-11\nBuildReport')
  await new Promise((resolve) => setTimeout(resolve, 3000))

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
  const shoot = async (name: string, url?: string): Promise<void> => {
    if (url !== undefined) await page.goto(`${base}${url}`)
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true })
    console.log(`docs/screenshots/${name}.png`)
  }
  await shoot('sign-in', '/console/sign-in')
  await page.getByLabel('Email').fill('olga@acme.example')
  await page.getByLabel('Password').fill('screenshots password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${base}/console`)
  await shoot('dashboard')
  await shoot('messages', '/console/messages')
  await shoot('message-rejected', `/console/messages/${rejected.message as string}`)
  const launches = await api(key, 'GET', '/api/v1/launches')
  await shoot('launches', '/console/launches')
  await shoot('launch', `/console/launches/${launches.items[0].id as string}`)
  await shoot('senders', '/console/senders')
  await shoot('robot', `/console/robots/${robot.id as string}`)
  await page.goto(`${base}/console/test-send?robotId=${robot.id as string}`)
  await page.getByRole('button', { name: 'Check (dry run)' }).click()
  await shoot('test-send')
  await shoot('mailboxes', '/console/mailboxes')
  await shoot('orchestrator', '/console/orchestrator')
  await shoot('team', '/console/team')
  await browser.close()
} finally {
  await stop()
  await app.close()
  await sim.close()
  await smtp.close()
  await database.close()
}
