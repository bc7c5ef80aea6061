import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startSmtpCatcher, type Received } from '../support/smtp.js'
import { sql } from 'kysely'

t.test(`replies to senders, received by a real SMTP server, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport', 'Payroll'] })
  const smtp = await startSmtpCatcher()
  t.teardown(async () => { await sim.close(); await smtp.close() })
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim, {}, { smtp: { host: '127.0.0.1', port: smtp.port, tls: false, fromName: 'Acme robots' } })
  const replyTo = async (messageId: string): Promise<Received> => await eventually(async () => smtp.received.find((r) => r.mail.inReplyTo === messageId))

  t.test('launched, then finished, in one thread, with what was understood and the outputs', async (t) => {
    const answer = (await setup.send('period = 2026-10\nExtractData: region = North\nBuildReport', { messageId: '<thread@sender.example>' })).json()
    t.equal(answer.launch.state, 'launched')
    const launched = await replyTo('<thread@sender.example>')
    t.equal(launched.mail.subject, 'Re: Monthly Report')
    t.same(launched.to, ['anna@sender.example'])
    t.equal(launched.mail.from?.value[0]?.address, 'robots@acme.example')
    t.equal(launched.mail.from?.value[0]?.name, 'Acme robots')
    t.equal(launched.mail.headers.get('auto-submitted'), 'auto-replied')
    t.match(launched.mail.text, /Robot "Monthly Report" has been started\./)
    t.match(launched.mail.text, new RegExp(`Orchestrator job: ${String(answer.launch.jobId)}`))
    t.match(launched.mail.text, /period = 2026-10[\s\S]*1\. ExtractData: region = North\n {2}2\. BuildReport/)
    t.ok(launched.mail.html, 'an HTML alternative')

    await sim.setJobState(answer.launch.jobId, 'Successful', { output: { out_ReportUrl: 'https://files.acme.example/r.xlsx', out_Rows: 1200 } })
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
    await app.jobs.pollDue()
    const finished = await eventually(async () => smtp.received.find((r) => r !== launched && r.mail.inReplyTo === '<thread@sender.example>'))
    t.equal(finished.mail.subject, 'Re: Monthly Report')
    t.match(String(finished.mail.references), /<thread@sender\.example>/)
    t.match(finished.mail.text, /Robot "Monthly Report" finished successfully\.\nOrchestrator job: \d+\nRun time: \d+ s\n\nResults:\n/)
    t.match(finished.mail.text, /^ {2}out_ReportUrl: https:\/\/files\.acme\.example\/r\.xlsx$/m)
    t.match(finished.mail.text, /^ {2}out_Rows: 1200$/m)
    const notifications = (await setup.api('GET', `/api/v1/launches/${String(answer.launch.id)}`)).json()
    t.match(notifications, { state: 'completed', outputArguments: { out_Rows: 1200 } })
  })

  t.test('a command with mistakes gets the lines to fix and an example that works', async (t) => {
    await setup.send('perod = 2026-10\nBuild Report', { messageId: '<mistakes@sender.example>' })
    const reply = await replyTo('<mistakes@sender.example>')
    t.match(reply.mail.text, /Your email could not be run\. What to fix:/)
    t.match(reply.mail.text, /Line 1 «perod = 2026-10»: The robot "Monthly Report" has no input "perod"; it takes: period \(text, required\)/)
    t.match(reply.mail.text, /Line 2 «Build Report»: "Build Report" is not a valid function name/)
    t.match(reply.mail.text, /Example email for "Monthly Report":\n {2}Subject: Monthly Report\n {2}period = text\n {2}ExtractData: region = text\n {2}BuildReport\n {2}SendReport: to = text/)
  })

  t.test('an unknown robot gets the list of robots this sender may run', async (t) => {
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Payroll', description: 'Monthly payroll <b>run</b>', allowAllSenders: true, parameters: [{ name: 'month', type: 'date', required: true }] })).statusCode, 201)
    t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Secret Robot', senderIds: [] })).statusCode, 201)
    await setup.send('Run', { subject: 'Payrol', messageId: '<unknown-robot@sender.example>' })
    const reply = await replyTo('<unknown-robot@sender.example>')
    t.match(reply.mail.text, /there is no robot called "Payrol"/)
    t.match(reply.mail.text, /• Monthly Report[\s\S]*• Payroll — Monthly payroll <b>run<\/b>\n {2}inputs: month \(a date, required\)/)
    t.notMatch(reply.mail.text, /Secret Robot/, 'robots this sender may not run are not listed')
    t.match(reply.mail.html, /Monthly payroll &lt;b&gt;run&lt;\/b&gt;/, 'values are escaped in the HTML')
    t.notMatch(reply.mail.html, /<b>run<\/b>/)
  })

  t.test('a robot this sender may not run says so and whom to ask', async (t) => {
    await setup.api('PATCH', '/api/v1/robots/' + String((await setup.api('GET', '/api/v1/robots')).json().items.find((r: { name: string }) => r.name === 'Payroll').id), { allowAllSenders: false })
    await db.updateTable('tenants').set({ contact_email: 'rpa-team@acme.example' }).execute()
    await setup.send('Run', { subject: 'Payroll', messageId: '<forbidden@sender.example>' })
    const reply = await replyTo('<forbidden@sender.example>')
    t.match(reply.mail.text, /You are not allowed to run robot "Payroll"\.\nTo get access, ask rpa-team@acme\.example\./)
  })

  t.test('help lists the catalogue with an example email per robot', async (t) => {
    await setup.send('', { subject: 'help', messageId: '<help@sender.example>' })
    const reply = await replyTo('<help@sender.example>')
    t.match(reply.mail.text, /Robots you may run by email\./)
    t.match(reply.mail.text, /• Monthly Report\n {2}inputs: period \(text, required\)\n {2}functions: ExtractData \(region \(text, required\), currency \(text\)\); BuildReport; SendReport \(to \(text, required\)\)\n {2}Example email for "Monthly Report":\n {4}Subject: Monthly Report\n {4}period = text/)
  })

  t.test('a launch that fails says why and that nothing will be retried; a delayed one says mailrun keeps trying', async (t) => {
    sim.fail(/StartJobs$/, 409, { message: 'No machines', errorCode: 2818, traceId: 't' })
    await setup.send('period = 1', { messageId: '<failed@sender.example>' })
    t.match((await replyTo('<failed@sender.example>')).mail.text, /Robot "Monthly Report" could not be started\.\nReason: no robot machine with an unattended runtime is available in folder "Finance"\.\n\nmailrun will not retry this one\./)
    sim.fail(/StartJobs$/, 503, { message: 'down', errorCode: 0, traceId: 't' }, undefined, 2)
    await setup.send('period = 1', { messageId: '<delayed@sender.example>' })
    t.match((await replyTo('<delayed@sender.example>')).mail.text, /mailrun will keep trying on its own: you do not need to send the email again\./)
  })

  t.test('a subject that tries to add a header stays one line', async (t) => {
    const encoded = `=?utf-8?B?${Buffer.from('Monthly Report\r\nBcc: victim@example.com').toString('base64')}?=`
    await setup.send('period = 1', { subject: encoded, messageId: '<crlf@sender.example>' })
    const reply = await replyTo('<crlf@sender.example>')
    t.equal(reply.mail.subject, 'Re: Monthly Report Bcc: victim@example.com')
    t.equal(reply.mail.headers.get('bcc'), undefined)
    t.same(reply.to, ['anna@sender.example'])
  })
})

t.test('replies in Russian for a tenant whose locale is ru', async (t) => {
  const sim = await startOrchestratorSimulator()
  const smtp = await startSmtpCatcher()
  t.teardown(async () => { await sim.close(); await smtp.close() })
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim, {}, { smtp: { host: '127.0.0.1', port: smtp.port, tls: false } })
  await database.db.updateTable('tenants').set({ locale: 'ru' }).execute()
  await setup.send('period = 2026-10\nBuildReport', { messageId: '<ru-launch@sender.example>' })
  await setup.send('perod = 1', { messageId: '<ru-bad@sender.example>' })
  await setup.send('', { subject: 'справка', messageId: '<ru-help@sender.example>' })
  const by = async (id: string) => await eventually(async () => smtp.received.find((r) => r.mail.inReplyTo === id))
  t.match((await by('<ru-launch@sender.example>')).mail.text, /Робот «Monthly Report» запущен\.[\s\S]*Вот как письмо было понято/)
  t.match((await by('<ru-bad@sender.example>')).mail.text, /Письмо не удалось выполнить\. Что исправить:\n\nСтрока 1 «perod = 1»/)
  t.match((await by('<ru-help@sender.example>')).mail.text, /Роботы, которых можно запускать письмом\.[\s\S]*Пример письма для «Monthly Report»:/)
})
