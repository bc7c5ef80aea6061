import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

const secrets = {
  clientSecret: 'sim-secret',
  webhookSecret: 'webhook-secret-5f2c9a7e1b',
  mailgunSigningKey: 'mailgun-signing-key-8d1e',
  sendgridPassword: 'sendgrid-basic-pass-3a9f',
  imapPassword: 'imap-app-password-77c1',
  smtpPassword: 'smtp-password-c4d2e0'
}

t.test(`on ${testDatabaseKind}, no answer and no log line carries a secret that was set`, async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, log } = await buildTestApp(t, { env: { LOG_LEVEL: 'trace' } })
  const { api } = await newTenant(app, 'Secretive')
  const answers: string[] = []
  const keep = async (p: Promise<{ body: string, statusCode: number }>): Promise<{ body: string, statusCode: number }> => {
    const res = await p
    answers.push(res.body)
    return res
  }

  await keep(api('PUT', '/api/v1/orchestrator', {
    kind: 'cloud',
    url: sim.url,
    organization: 'acme',
    tenantName: 'DefaultTenant',
    authMode: 'client_credentials',
    clientId: 'sim-client',
    clientSecret: secrets.clientSecret,
    webhookSecret: secrets.webhookSecret,
    defaultFolder: 'Finance'
  }))
  await keep(api('POST', '/api/v1/orchestrator/test'))
  const mailbox = (await keep(api('POST', '/api/v1/mailboxes', {
    address: 'secrets@acme.example',
    mailgunSigningKey: secrets.mailgunSigningKey,
    sendgridBasicAuth: { username: 'sg', password: secrets.sendgridPassword },
    imap: { host: 'imap.example.net', user: 'u', password: secrets.imapPassword },
    smtp: { host: 'smtp.example.net', user: 'u', password: secrets.smtpPassword }
  })))
  const id = JSON.parse(mailbox.body).id as string
  await keep(api('GET', `/api/v1/mailboxes/${id}`))
  await keep(api('GET', '/api/v1/mailboxes'))
  await keep(api('PATCH', `/api/v1/mailboxes/${id}`, { imap: { host: 'imap.example.net', user: 'u', password: secrets.imapPassword } }))
  await keep(api('GET', '/api/v1/orchestrator'))
  await keep(api('PATCH', `/api/v1/mailboxes/${id}`, { imap: { host: 'imap.example.net', user: 'u', password: secrets.imapPassword, bogus: 1 } }))

  t.ok(log.lines.length > 10, 'the suite did log')
  for (const [name, value] of Object.entries(secrets)) {
    t.notOk(answers.some((a) => a.includes(value)), `no answer contains ${name}`)
    t.notOk(log.lines.some((l) => l.includes(value)), `no log line contains ${name}`)
  }
  t.notOk(log.lines.some((l) => l.includes(ADMIN_KEY) || l.includes(api.key)), 'no log line contains an API key')
})

t.test('the logger redacts secrets by path', async (t) => {
  const { app, log } = await buildTestApp(t)
  app.log.info({ imap: { host: 'h', password: 'p-1' }, connection: { clientSecret: 'c-2', accessToken: 'a-3' }, sendgridBasicAuth: { password: 'p-4' } }, 'settings')
  const line = log.lines.find((l) => l.includes('"settings"')) ?? ''
  for (const value of ['p-1', 'c-2', 'a-3', 'p-4']) t.notOk(line.includes(value), `${value} is redacted`)
  t.match(line, /\[redacted\]/)
})
