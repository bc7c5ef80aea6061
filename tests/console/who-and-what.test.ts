import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { consoleClient } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { addAllowedSender, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Which robot and who sent it (issue #29): launch views name both, lists filter by them, a
// rejected message from a sender shows its subject and what it said, the dashboard counts stopped
// launches.

t.test(`who and what on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport', 'Invoices'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  await addAllowedSender(setup, 'Carl Svensson', 'carl@sender.example')
  const invoices = (await setup.api('POST', '/api/v1/robots', { name: 'Invoices', allowAllSenders: true })).json()
  const anna = (await setup.send()).json()
  const carl = (await setup.send('Run', { subject: 'Invoices', from: 'Carl Svensson <carl@sender.example>' })).json()
  const refused = (await setup.send('period = 2026-10\nBuild Report')).json()
  t.equal(refused.status, 'rejected')

  const launch = (await setup.api('GET', `/api/v1/launches/${String(anna.launch.id)}`)).json()
  t.match(launch, { robot: { id: setup.robotId, name: 'Monthly Report' }, sender: { id: setup.senderId, email: 'anna@sender.example', fullName: 'Anna Petrova' } })
  const byRobot = (await setup.api('GET', `/api/v1/launches?robotId=${String(invoices.id)}`)).json().items
  t.same(byRobot.map((l: { id: string }) => l.id), [carl.launch.id], 'filtered by robot')
  t.match(byRobot[0], { robot: { name: 'Invoices' }, sender: { email: 'carl@sender.example', fullName: 'Carl Svensson' } })
  t.same((await setup.api('GET', `/api/v1/launches?senderId=${setup.senderId}`)).json().items.map((l: { id: string }) => l.id), [anna.launch.id], 'filtered by sender')

  await setup.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'viewer', password: 'ada viewer password' })
  const { get, signIn } = consoleClient(app)
  const { jar } = await signIn('ada@acme.example', 'ada viewer password')
  const list = await get(jar, '/console/launches')
  t.match(list.body, /<th scope="col">Robot<\/th><th scope="col">Sender<\/th>/)
  t.match(list.body, new RegExp(`<a href="/console/launches\\?robotId=${String(invoices.id)}">Invoices</a></td><td><a href="/console/launches\\?senderId=[0-9a-f-]+" title="carl@sender.example">Carl Svensson</a>`))
  t.notMatch((await get(jar, `/console/launches?robotId=${String(invoices.id)}`)).body, /Monthly Report<\/a>/, 'the console filters by robot too')

  const message = await get(jar, `/console/messages/${String(refused.message)}`)
  t.match(message.body, /<h1>Monthly Report<\/h1>/, 'headed by its subject')
  t.match(message.body, /<pre class="body">period = 2026-10\nBuild Report/, 'with what the sender wrote')
  t.match((await get(jar, '/console/messages')).body, /<td>Monthly Report<\/td>/, 'the list shows subjects')

  await sim.setJobState(carl.launch.jobId, 'Stopped')
  await database.db.updateTable('launches').set({ next_attempt_at: new Date(Date.now() - 1000) }).where('id', '=', carl.launch.id).execute()
  t.equal(await app.jobs.pollDue(), 1)
  const stranger = (await setup.send('Run', { subject: 'Invoices', from: 'mallory@stranger.example' })).json()
  t.match((await get(jar, `/console/messages/${String(stranger.message)}`)).body, /<h1>A message from someone who is not a sender \(its content is not kept\)<\/h1>/)
  t.match((await get(jar, '/console')).body, /<td data-count="dash.launches-today-stopped">1<\/td>/, 'the dashboard counts stopped launches')
})
