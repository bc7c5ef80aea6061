import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { englishRuns } from '../support/english-runs.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// The Russian console, page by page (issue #29): no English sentence on any page a Russian user
// reaches, and refused forms answer in Russian. Data is written in Russian so that only the
// console's own words could be English.

/** The test tenant's own data (tests/support/tenant-setup.ts): names and subjects, not the console's words. */
const DATA = ['Monthly Report', 'MonthlyReport', 'Anna Petrova', 'ExtractData', 'BuildReport', 'SendReport', 'Build Report']

t.test(`every console page in Russian on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  const ada = (await setup.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ада', role: 'admin', password: 'ada admin password' })).json()
  await setup.api('PATCH', `/api/v1/users/${String(ada.id)}`, { locale: 'ru' })
  const launched = (await setup.send()).json()
  const refused = (await setup.send('period = 2026-10\nBuild Report')).json()
  const stranger = (await setup.send('Run', { from: 'mallory@stranger.example' })).json()
  const consoleTest = (await setup.api('POST', '/api/v1/test-sends', { robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-12\nBuildReport', dryRun: false })).json()
  const cancelled = (await setup.send('', { subject: `cancel ${String(launched.launch.jobId)}` })).json()
  const { get, post, signIn } = consoleClient(app)
  const { jar } = await signIn('ada@acme.example', 'ada admin password')

  const pages = ['/console', '/console/messages', '/console/launches', '/console/senders', '/console/robots', '/console/mailboxes', '/console/orchestrator', '/console/alerts', '/console/team', '/console/test-send',
    `/console/messages/${String(launched.message)}`, `/console/messages/${String(refused.message)}`, `/console/messages/${String(stranger.message)}`,
    `/console/launches/${String(launched.launch.id)}`, `/console/launches/${String(consoleTest.launch.id)}`, `/console/messages/${String(consoleTest.messageId)}`, `/console/messages/${String(cancelled.message)}`, `/console/senders/${setup.senderId}`, `/console/robots/${setup.robotId}`, `/console/mailboxes/${setup.mailboxId}`]
  for (const path of pages) {
    const page = await get(jar, path)
    t.equal(page.statusCode, 200, path)
    t.same(englishRuns(page.body, DATA), [], `${path}: no English sentence`)
  }

  t.test('refused forms answer in Russian', async (t) => {
    const senders = await get(jar, '/console/senders')
    const badEmail = await post(jar, '/console/senders', { _csrf: csrfOf(senders.body), fullName: 'Борис', email: 'не адрес' })
    t.equal(badEmail.statusCode, 400)
    t.match(badEmail.body, /Эл\. почта: должен быть адресом эл\. почты/)
    const taken = await post(jar, '/console/senders', { _csrf: csrfOf(senders.body), fullName: 'Анна', email: 'anna@sender.example' })
    t.match(taken.body, /отправитель с адресом anna@sender\.example уже есть у этого арендатора/)
    const csv = await post(jar, '/console/senders/import', { _csrf: csrfOf(senders.body), csv: 'Борис,"boris@sender.example\nВера,vera@sender.example' })
    t.match(csv.body, /список не читается как CSV: кавычка не закрыта \(строка \d+\)/)
    const rows = await post(jar, '/console/senders/import', { _csrf: csrfOf(senders.body), csv: 'Борис,не-адрес\nВера,vera@sender.example' })
    t.match(rows.body, /Эл\. почта: должен быть адресом эл\. почты/)
    const test = await get(jar, '/console/test-send')
    const dry = await post(jar, '/console/test-send', { _csrf: csrfOf(test.body), robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-10\nBuild Report\nExtractData', mode: 'dry' })
    t.equal(dry.statusCode, 200)
    const valid = await post(jar, '/console/test-send', { _csrf: csrfOf(test.body), robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-10\nBuildReport', mode: 'dry' })
    for (const answer of [badEmail, taken, csv, rows, dry, valid]) t.same(englishRuns(answer.body, DATA), [], 'no English in the answer')
  })
})
