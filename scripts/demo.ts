import { randomBytes } from 'node:crypto'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import iconv from 'iconv-lite'
import MailComposer from 'nodemailer/lib/mail-composer'
import { buildApp } from '../src/app.js'
import { startBackgroundWork } from '../src/background.js'
import { loadConfig } from '../src/config.js'
import { createSecretBox } from '../src/crypto/secret-box.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { createLogger } from '../src/logger.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../tests/support/mail.js'
import { startOrchestratorSimulator } from '../src/simulator/orchestrator.js'
import { startSmtpCatcher, type Received } from '../src/simulator/mail-catcher.js'
import { startChatStandIns } from '../src/simulator/chat-services.js'
import { launchDovecot } from '../tests/support/dovecot.js'
import { startGraphStandIn } from '../tests/support/graph-stand-in.js'
import { startIdentityStandIn } from '../tests/support/identity-stand-in.js'
import { startHttpTargetReceiver } from '../tests/support/http-target-receiver.js'
import { FLOW_STATUS, startDataverseStandIn } from '../src/simulator/dataverse.js'
import { startControlRoomStandIn } from '../src/simulator/control-room.js'
import { Webhook } from 'standardwebhooks'

// npm run demo: the whole product on one machine, no UiPath account, no configuration.
// `npm run demo -- --once` runs the story and exits (the CI smoke test); `--graph` adds Graph push;
// `--platform power-automate`, `--platform automation-anywhere` or `--platform http` (repeatable) adds a robot on that platform.

const once = process.argv.includes('--once')
const platforms = process.argv.flatMap((a, i) => a === '--platform' ? [process.argv[i + 1] ?? ''] : a.startsWith('--platform=') ? [a.slice('--platform='.length)] : [])
for (const p of platforms) if (p !== 'power-automate' && p !== 'automation-anywhere' && p !== 'http') throw new Error(`demo: --platform ${p}: choose power-automate, automation-anywhere or http`)
// --graph adds a message pushed through Graph change notifications (stand-ins for Graph and its token endpoint).
const withGraph = process.argv.includes('--graph')
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
const step = (s: string): void => { console.log(`\n${bold(`▶ ${s}`)}`) }
const indent = (s: string): string => s.split('\n').map((l) => `    ${l}`).join('\n')

async function waitFor<T> (what: string, check: () => T | undefined, ms = 20_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`demo: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'mailrun-demo-'))
const adminKey = `mra_demo_${randomBytes(12).toString('hex')}`
const senderKey = dkimKey('finance.example')

step('Starting the Orchestrator SIMULATOR (a local stand-in that follows the Orchestrator API; not UiPath), an SMTP catcher and mailrun on PGlite')
const smtp = await startSmtpCatcher()
const chat = await startChatStandIns()
// PORT when given, else a free one chosen now, so the URLs mailrun builds (ingress, console links) are the real ones.
const port = process.env.PORT ?? String(await new Promise<number>((resolve) => { const probe = createNetServer().listen(0, '127.0.0.1', () => { const p = (probe.address() as AddressInfo).port; probe.close(() => { resolve(p) }) }) }))
const config = loadConfig({ PORT: port, MAILRUN_PUBLIC_URL: `http://127.0.0.1:${port}`, HOST: '127.0.0.1', MAILRUN_DATA_DIR: dataDir, MAILRUN_ADMIN_KEY: adminKey, MAILRUN_OUTBOUND_DENY: 'none', LOG_LEVEL: 'warn', MAILRUN_JOB_POLL_INTERVAL_S: '2', MAILRUN_SWEEP_INTERVAL_S: '5' })
const database = await openDatabase({ kind: 'pglite', dataDir })
await migrateToLatest(database.db)
const app = await buildApp({ config, database, logger: createLogger('warn', false), secrets: createSecretBox(randomBytes(32)), dnsResolver: fakeDns([senderKey], { 'finance.example': 'v=DMARC1; p=reject' }) })
const base = await app.listen({ port: Number(port), host: '127.0.0.1' })
const hook: { url: string } = { url: '' }
const sim = await startOrchestratorSimulator({
  processes: ['MonthlyReport', 'Payroll'],
  autoFinishMs: 3000,
  autoFinish: { state: 'Successful', output: { out_ReportUrl: 'https://files.finance.example/reports/2026-10.xlsx', out_Rows: 1284 } },
  webhook: { get url () { return hook.url }, secret: 'demo-webhook-secret-123' }
})
const stopBackground = startBackgroundWork(app)
console.log(indent(`mailrun:    ${base}   (database: ${database.location})\nsimulator:  ${sim.url}   (Orchestrator simulator)\nSMTP:       127.0.0.1:${smtp.port}   (catches the replies)`))

async function api (method: string, url: string, key: string, body?: unknown): Promise<Record<string, unknown>> {
  console.log(indent(`$ curl -X ${method} ${base}${url} -H 'Authorization: Bearer ${key}'${body !== undefined ? ` -H 'content-type: application/json' -d '${JSON.stringify(body)}'` : ''}`))
  const res = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const json = await res.json() as Record<string, unknown>
  if (!res.ok) throw new Error(`demo: ${method} ${url} answered ${res.status}: ${JSON.stringify(json)}`)
  return json
}

step('Setting up a tenant through the admin API')
const tenant = await api('POST', '/api/v1/tenants', adminKey, { name: 'Acme Finance', maxMailboxes: 1, locale: 'en', contactEmail: 'rpa-team@acme.example', domains: ['acme.example'] })
const key = String((await api('POST', `/api/v1/tenants/${String(tenant.id)}/api-keys`, adminKey, { name: 'demo' })).key)
const connection = await api('PUT', '/api/v1/orchestrator', key, { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance', webhookSecret: 'demo-webhook-secret-123' })
hook.url = String(connection.webhookUrl).replace('http://localhost:0', base)
console.log(indent(JSON.stringify(await api('POST', '/api/v1/orchestrator/test', key))))
const mailbox = await api('POST', '/api/v1/mailboxes', key, { address: 'robots@acme.example', smtp: { host: '127.0.0.1', port: smtp.port, tls: false, fromName: 'Acme robots' } })
const sender = await api('POST', '/api/v1/senders', key, { fullName: 'Anna Petrova', email: 'anna@finance.example' })
await api('POST', '/api/v1/robots', key, {
  name: 'Monthly Report',
  processName: 'MonthlyReport',
  senderIds: [sender.id],
  description: 'Builds the monthly finance report',
  parameters: [{ name: 'period', type: 'string', required: true }],
  functions: [{ name: 'ExtractData', parameters: [{ name: 'region', type: 'string', required: true }] }, { name: 'BuildReport' }, { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }]
})
await api('POST', '/api/v1/users', key, { email: 'rpa-team@acme.example', name: 'RPA team', role: 'admin', password: 'demo console password' })
await api('POST', '/api/v1/notification-channels', key, { name: 'RPA team on Slack', kind: 'slack', events: ['job.completed', 'job.faulted', 'launch.failed'], url: chat.urls.slack })
await api('POST', '/api/v1/robots', key, { name: 'Payroll', processName: 'Payroll', senderIds: [sender.id], parameters: [{ name: 'month', type: 'date', required: true }] })
const mimeUrl = String((mailbox.ingressUrls as Record<string, string>).mime).replace('http://localhost:0', base)

async function send (title: string, from: string, subject: string, body: string, sign: boolean): Promise<string> {
  step(title)
  const id = `<demo-${randomBytes(4).toString('hex')}@${/@([^>\s]+)/.exec(from)?.[1] ?? 'demo.example'}>`
  const message = buildMessage({ from, subject, body, messageId: id })
  console.log(indent(`From: ${from}\nSubject: ${subject}\n\n${body}`))
  const raw = sign ? await signMessage(message, senderKey) : Buffer.from(message)
  const res = await fetch(mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw })
  console.log(indent(`door answered ${res.status}: ${JSON.stringify(await res.json())}`))
  return id
}

const showReply = (r: Received): void => {
  console.log(indent(`From: ${r.mail.from?.text ?? ''}\nTo: ${r.to.join(', ')}\nSubject: ${r.mail.subject ?? ''}\nIn-Reply-To: ${String(r.mail.inReplyTo)}\nAuto-Submitted: ${String(r.mail.headers.get('auto-submitted'))}\n\n${r.mail.text ?? ''}`))
}

const good = await send('Email 1: a good command, DKIM-signed by finance.example, through the raw MIME door', 'Anna Petrova <anna@finance.example>', 'Monthly Report',
  'period = 2026-10\nExtractData: region = North\nBuildReport\nSendReport: to = "cfo@acme.example"\n-- \nAnna', true)
const job = await waitFor('the job in the simulator', () => sim.jobs[0])
step(`The simulator received StartJobs and created job ${job.Id} (InputArguments below); it finishes the job in 3 s and calls the webhook`)
console.log(indent(JSON.stringify(JSON.parse(job.InputArguments ?? '{}'), null, 2)))
const launched = await waitFor('the "launched" reply', () => smtp.received.find((r) => r.mail.inReplyTo === good && /started/.test(r.mail.text ?? '')))
step('Reply 1: launched')
showReply(launched)
const finished = await waitFor('the "finished" reply', () => smtp.received.find((r) => r.mail.inReplyTo === good && /finished/.test(r.mail.text ?? '')))
step('Reply 2: finished, with the job output arguments')
showReply(finished)
const slackPost = await waitFor('the Slack-format alert', () => chat.requests.find((r) => r.service === 'slack'))
const ended = Date.parse(sim.jobs.find((j) => j.Id === job.Id)?.EndTime ?? '')
step(`The team's Slack channel was told ${((slackPost.at - ended) / 1000).toFixed(1)} s after the job ended (a local Slack STAND-IN that checks Slack's incoming-webhook format; not Slack):`)
console.log(indent(JSON.stringify(JSON.parse(slackPost.body), null, 2)))

const typo = await send('Email 2: a typo in a function name', 'Anna Petrova <anna@finance.example>', 'Monthly Report', 'period = 2026-11\nExtractData: region = North\nBuildRepotr', true)
step('Reply 3: what to fix, and an example that works')
showReply(await waitFor('the rejection reply', () => smtp.received.find((r) => r.mail.inReplyTo === typo)))

await send('Email 3: an unknown sender (forged From, no valid signature)', 'Mallory <mallory@finance.example>', 'Payroll', 'month = 2026-10', false)
await new Promise((resolve) => setTimeout(resolve, 1000))
step('No reply to the unknown sender (no backscatter); what mailrun recorded:')
const messages = await api('GET', '/api/v1/messages?limit=3', key)
for (const m of messages.items as Array<Record<string, unknown>>) console.log(indent(`${String(m.receivedAt)}  ${String(m.status).padEnd(9)} ${String(m.fromAddress)}  ${String(m.reason ?? '')}`))
console.log(indent(`replies sent: ${smtp.received.length}`))

const statusId = await send('Email 4: "where is my job?" — the subject status', 'Anna Petrova <anna@finance.example>', 'status', '', true)
step('Reply: her launches, newest first')
showReply(await waitFor('the status reply', () => smtp.received.find((r) => r.mail.inReplyTo === statusId)))

step('Email 5: a spreadsheet of work — a CSV saved by Excel in Russian (windows-1251, semicolons) to a queue robot')
await api('POST', '/api/v1/robots', key, { name: 'Pay Invoices', processName: 'PayInvoices', launchMode: 'queue', queueName: 'Invoices', senderIds: [sender.id], parameters: [{ name: 'Account', type: 'string', required: true }, { name: 'Amount', type: 'number', required: true }, { name: 'Due', type: 'date' }] })
const csv = 'Account;Amount;Due\r\nСЧ-1001;1500,50;15.12.2026\r\nСЧ-1002;320;20.12.2026\r\nСЧ-1003;78,90;\r\n'
console.log(indent(`From: Anna Petrova <anna@finance.example>\nSubject: Pay Invoices\nAttachment: invoices.csv (windows-1251)\n\n${csv.replace(/\r/g, '')}`))
const sheetId = `<demo-${randomBytes(4).toString('hex')}@finance.example>`
const sheetMail = await new MailComposer({ from: 'Anna Petrova <anna@finance.example>', to: 'robots@acme.example', subject: 'Pay Invoices', messageId: sheetId, text: 'December invoices attached.', attachments: [{ filename: 'invoices.csv', content: iconv.encode(csv, 'windows-1251'), contentType: 'application/vnd.ms-excel' }] }).compile().build()
const sheetAnswer = await fetch(mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: await signMessage(sheetMail, senderKey) })
console.log(indent(`door answered ${sheetAnswer.status}: ${JSON.stringify(await sheetAnswer.json())}`))
step('The simulator received one BulkAddQueueItems; its queue "Invoices" now holds:')
for (const item of sim.queueItems) console.log(indent(`${String(item.Reference)}  ${JSON.stringify(item.SpecificContent)}`))
step('Reply: how many rows went to which queue')
showReply(await waitFor('the rows reply', () => smtp.received.find((r) => r.mail.inReplyTo === sheetId)))

step('Email 6: a message the push never delivered, filed as spam — the IMAP fallback sweep finds it')
let dovecot: Awaited<ReturnType<typeof launchDovecot>> | null = null
if (!existsSync('/usr/sbin/dovecot')) {
  console.log(indent('Skipped: Dovecot is not installed (apt-get install -y dovecot-imapd). The test suite runs this against a real Dovecot; see docs/providers.md, "The IMAP fallback sweep".'))
} else {
  dovecot = await launchDovecot({ 'robots@acme.example': 'demo-app-password' })
  console.log(indent(`Dovecot (a real IMAP server) on ${dovecot.host}:${dovecot.port}; the mailbox gets its IMAP settings:`))
  await api('PATCH', `/api/v1/mailboxes/${String(mailbox.id)}`, key, { imap: { host: dovecot.host, port: dovecot.port, tls: false, user: 'robots@acme.example', password: 'demo-app-password' } })
  const id = `<demo-${randomBytes(4).toString('hex')}@finance.example>`
  const body = 'period = 2026-09\nExtractData: region = South\nBuildReport\nSendReport: to = "cfo@acme.example"'
  const raw = await signMessage(buildMessage({ from: 'Anna Petrova <anna@finance.example>', subject: 'Monthly Report', body, messageId: id }), senderKey)
  await dovecot.append('robots@acme.example', 'Junk', raw)
  const delivered = Date.now()
  console.log(indent(`Filed straight into the Junk folder over IMAP (as a spam filter would), no push: sweep interval ${config.sweepIntervalMs / 1000} s`))
  const reply = await waitFor('the reply to the swept message', () => smtp.received.find((r) => r.mail.inReplyTo === id), 60_000)
  step(`Found in Junk by the sweep and launched after ${((Date.now() - delivered) / 1000).toFixed(1)} s; the reply:`)
  showReply(reply)
}

let graphParts: { close: () => Promise<void> } | null = null
if (withGraph) {
  step('Email 7: pushed through Graph change notifications — a local Graph STAND-IN and token-endpoint STAND-IN that follow the published contracts (not the real service)')
  const idp = await startIdentityStandIn()
  const graph = await startGraphStandIn(idp)
  graphParts = { close: async () => { await graph.close(); await idp.close() } }
  idp.microsoftScopes.push(graph.scope)
  idp.microsoft.push({ tenant: 'acme-demo.onmicrosoft.example', clientId: 'mailrun-demo-app', secret: 'demo-graph-client-secret', mailboxes: ['robots@acme.example'] })
  console.log(indent(`Graph stand-in on ${graph.url}, token endpoint stand-in on ${idp.url}; the mailbox gets graph settings:`))
  await api('PATCH', `/api/v1/mailboxes/${String(mailbox.id)}`, key, { graph: { baseUrl: graph.url, auth: { kind: 'microsoft', tenantId: 'acme-demo.onmicrosoft.example', clientId: 'mailrun-demo-app', clientSecret: 'demo-graph-client-secret', authority: idp.url } } })
  await waitFor('the Graph subscriptions', () => graph.subscriptions.size >= 2 ? true : undefined, 30_000)
  for (const s of graph.subscriptions.values()) console.log(indent(`subscribed: ${s.resource} until ${s.expirationDateTime} (validated by calling ${s.notificationUrl} back)`))
  const id = `<demo-${randomBytes(4).toString('hex')}@finance.example>`
  const body = 'period = 2026-08\nExtractData: region = West\nBuildReport\nSendReport: to = "cfo@acme.example"'
  const raw = await signMessage(buildMessage({ from: 'Anna Petrova <anna@finance.example>', subject: 'Monthly Report', body, messageId: id }), senderKey)
  const delivered = Date.now()
  await graph.deliver('robots@acme.example', 'inbox', raw)
  console.log(indent(`Delivered to the Inbox; the stand-in posted a change notification, mailrun answered ${String(graph.notified.at(-1)?.status)} and fetched the message's MIME`))
  const reply = await waitFor('the reply to the Graph-pushed message', () => smtp.received.find((r) => r.mail.inReplyTo === id), 30_000)
  step(`Pushed, fetched and launched after ${((Date.now() - delivered) / 1000).toFixed(1)} s; the reply:`)
  showReply(reply)
}

const platformParts: Array<{ close: () => Promise<void> }> = []
if (platforms.includes('power-automate')) {
  step('A robot that is a Power Automate desktop flow — a local Dataverse STAND-IN (token endpoint, RunDesktopFlow, flowsessions) that follows the published contract (not the real service)')
  const dv = await startDataverseStandIn()
  platformParts.push(dv)
  const flowId = 'f091ffab-58bb-4630-a115-659453d56f59'
  dv.apps.push({ tenant: 'acme-demo.onmicrosoft.example', clientId: '11112222-3333-4444-5555-666677778888', secret: 'demo-app-secret' })
  dv.flows.add(flowId)
  dv.connections.add('shared-uiflow-demo-machine')
  const flows = await api('POST', '/api/v1/connections', key, { name: 'Finance desktop flows', kind: 'power_automate', environmentUrl: dv.url, tenantId: 'acme-demo.onmicrosoft.example', clientId: '11112222-3333-4444-5555-666677778888', clientSecret: 'demo-app-secret', authority: dv.url })
  console.log(indent(JSON.stringify(await api('POST', `/api/v1/connections/${String(flows.id)}/test`, key))))
  await api('POST', '/api/v1/robots', key, { name: 'Post Invoices', connectionId: flows.id, powerAutomate: { flowId, connectionName: 'shared-uiflow-demo-machine' }, senderIds: [sender.id], parameters: [{ name: 'period', type: 'string', required: true }] })
  const id = await send('Email: the desktop flow "Post Invoices", by email like any robot', 'Anna Petrova <anna@finance.example>', 'Post Invoices', 'period = 2026-10', true)
  const session = await waitFor('the desktop flow run', () => [...dv.sessions.values()][0])
  step('The stand-in received RunDesktopFlow (unattended); the inputs, with the launch id in them:')
  console.log(indent(JSON.stringify(JSON.parse(session.inputs), null, 2)))
  dv.finish(session.flowsessionid, FLOW_STATUS.succeeded, { outputs: { InvoicesPosted: 37 } })
  step('The run succeeded; mailrun reads its flowsession and replies with its outputs:')
  showReply(await waitFor('the "finished" reply of the desktop flow', () => smtp.received.find((r) => r.mail.inReplyTo === id && /finished/.test(r.mail.text ?? '')), 30_000))
}
if (platforms.includes('automation-anywhere')) {
  step('A robot that is an Automation Anywhere bot — a local Control Room STAND-IN (authentication, deploy, activity list) that follows the published contract (not the real service)')
  const cr = await startControlRoomStandIn()
  platformParts.push(cr)
  cr.users.set('mailrun-demo', { id: 12, apiKey: 'demo-api-key' })
  cr.bots.add(4217)
  cr.runners.add(31)
  const room = await api('POST', '/api/v1/connections', key, { name: 'Control Room', kind: 'automation_anywhere', controlRoomUrl: cr.url, username: 'mailrun-demo', apiKey: 'demo-api-key' })
  console.log(indent(JSON.stringify(await api('POST', `/api/v1/connections/${String(room.id)}/test`, key))))
  await api('POST', '/api/v1/robots', key, { name: 'Vendor Sync', connectionId: room.id, automationAnywhere: { fileId: 4217, runAsUserIds: [31] }, senderIds: [sender.id], parameters: [{ name: 'period', type: 'string', required: true }] })
  const id = await send('Email: the bot "Vendor Sync", by email like any robot', 'Anna Petrova <anna@finance.example>', 'Vendor Sync', 'period = 2026-10', true)
  const run = await waitFor('the bot deployment', () => [...cr.activities.values()][0])
  step('The stand-in received the deploy (run as user 31); the typed botInput, with the launch id in it:')
  console.log(indent(JSON.stringify(run.botInput, null, 2)))
  cr.finish(run.deploymentId, 'COMPLETED', { outputs: { VendorsSynced: { type: 'NUMBER', number: '17' } } })
  step('The bot completed; mailrun reads its activity and replies with its output variables:')
  showReply(await waitFor('the "finished" reply of the bot', () => smtp.received.find((r) => r.mail.inReplyTo === id && /finished/.test(r.mail.text ?? '')), 30_000))
}
if (platforms.includes('http')) {
  step('A robot behind a signed HTTP target — a local receiver standing for an n8n workflow: it checks the Standard Webhooks signature, starts one run per Idempotency-Key and calls back when done')
  const receiver = await startHttpTargetReceiver()
  platformParts.push(receiver)
  const target = await api('POST', '/api/v1/connections', key, { name: 'n8n', kind: 'http', url: `${receiver.url}/webhook/mailrun` })
  await api('POST', '/api/v1/robots', key, { name: 'Nightly Sync', connectionId: target.id, senderIds: [sender.id], functions: [{ name: 'Sync', parameters: [{ name: 'system', type: 'string', required: true }] }] })
  const id = await send('Email: "Nightly Sync", launched through the HTTP target', 'Anna Petrova <anna@finance.example>', 'Nightly Sync', 'Sync: system = ERP', true)
  const posted = await waitFor('the signed POST', () => receiver.requests.find((r) => r.method === 'POST'))
  const verified = new Webhook(String(target.signingSecret)).verify(posted.body, posted.headers as Record<string, string>) as { launchId: string }
  step(`The receiver verified the signature (Idempotency-Key ${String(posted.headers['idempotency-key'])}) and received:`)
  console.log(indent(JSON.stringify(verified, null, 2)))
  const payload = JSON.stringify({ launchId: verified.launchId, status: 'completed', outputs: { recordsSynced: 1250 } })
  const at = new Date()
  const webhookId = `msg_demo_${randomBytes(4).toString('hex')}`
  const called = await fetch(String(target.callbackUrl).replace('http://localhost:0', base), { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': webhookId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(String(target.signingSecret)).sign(webhookId, at, payload) }, body: payload })
  step(`The workflow finished and called back (signed): mailrun answered ${called.status} ${JSON.stringify(await called.json())}; the reply:`)
  showReply(await waitFor('the "finished" reply of the HTTP run', () => smtp.received.find((r) => r.mail.inReplyTo === id && /finished/.test(r.mail.text ?? '')), 30_000))
}

step('The daily digest, as the RPA team gets it by email at 08:00 (asked for tomorrow morning now)')
await api('POST', '/api/v1/notification-channels', key, { name: 'Daily digest', kind: 'email', events: [], digest: 'daily', recipients: ['rpa-team@acme.example'] })
const todayUtc = new Date().toISOString().slice(0, 10)
await app.digests.send(new Date(Date.parse(`${todayUtc}T08:30:00Z`) + 24 * 3600_000))
const digest = await waitFor('the digest email', () => smtp.received.find((r) => r.to.includes('rpa-team@acme.example') && /digest/.test(r.mail.subject ?? '')))
console.log(indent(`Subject: ${digest.mail.subject ?? ''}\n\n${digest.mail.text ?? ''}`))

const cleanup = async (): Promise<void> => {
  await stopBackground()
  await app.close()
  await database.close()
  await sim.close()
  await smtp.close()
  await chat.close()
  await dovecot?.destroy()
  await graphParts?.close()
  for (const part of platformParts) await part.close()
  await rm(dataDir, { recursive: true, force: true })
}

if (once) {
  await cleanup()
  console.log('\ndemo: ok')
} else {
  step('Everything keeps running. Press Ctrl-C to stop and clean up.')
  console.log(indent(`Web console:         ${base}/console  (sign in as rpa-team@acme.example, password: demo console password)\nSwagger UI:          ${base}/docs\nAdmin API:           ${base}/api/v1  (tenant key: ${key})\nRaw MIME door:       ${mimeUrl}\nSimulator job list:  ${sim.url}/simulator/jobs  (what the Orchestrator simulator received)`))
  process.once('SIGINT', () => { cleanup().then(() => process.exit(0), () => process.exit(1)) })
}
