import { sql } from 'kysely'
import t from 'tap'
import { openSimulator, simulatorArgs } from '../../src/cli/simulator.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// `mailrun simulator --platform power-automate --platform automation-anywhere`: the stand-ins of
// both platforms beside the Orchestrator simulator, each printed with the connection to give a
// tenant. What it prints works as it is: the connections test green, and a robot on each runs to
// its end, which the simulator brings after --finish-after seconds.

t.test('--platform is checked by name', async (t) => {
  t.same(simulatorArgs({ platform: ['automation-anywhere', 'power-automate', 'automation-anywhere'] }).platforms, ['automation-anywhere', 'power-automate'])
  t.same(simulatorArgs({}).platforms, [])
  t.throws(() => simulatorArgs({ platform: ['blue-prism'] }), /--platform must be power-automate or automation-anywhere, not "blue-prism"/)
})

t.test(`the platform stand-ins it prints connect and run on ${testDatabaseKind}`, async (t) => {
  const running = await openSimulator({ port: 0, smtpPort: 0, processes: ['MonthlyReport'], finishAfterS: 0, platforms: ['power-automate', 'automation-anywhere'] })
  t.teardown(running.close)
  t.match(running.text, /Dataverse stand-in \(a local stand-in for a Power Automate environment[^\n]*not Microsoft\)/)
  t.match(running.text, /Control Room stand-in \(a local stand-in for an Automation Anywhere Control Room[^\n]*not Automation Anywhere\)/)
  t.match(running.text, 'All are on this machine')
  const bodies = [...running.text.matchAll(/-d '(\{[^\n]*\})'/g)].map((m) => JSON.parse(m[1] ?? '{}') as Record<string, unknown>)
  const pa = bodies.find((b) => b.kind === 'power_automate')
  const aa = bodies.find((b) => b.kind === 'automation_anywhere')
  t.ok(pa !== undefined && aa !== undefined, 'a connection body for each')

  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  const flow = /"powerAutomate": (\{[^\n]*\})/.exec(running.text)?.[1]
  const bot = /"automationAnywhere": (\{[^\n]*\})/.exec(running.text)?.[1]
  for (const [body, name, field, target] of [[pa, 'Post Invoices', 'powerAutomate', flow], [aa, 'Vendor Sync', 'automationAnywhere', bot]] as const) {
    const made = await setup.api('POST', '/api/v1/connections', body)
    t.equal(made.statusCode, 201, made.body)
    t.match((await setup.api('POST', `/api/v1/connections/${String(made.json().id)}/test`)).json(), { ok: true }, `${name}: the printed connection tests green`)
    t.equal((await setup.api('POST', '/api/v1/robots', { name, connectionId: made.json().id, [field]: JSON.parse(target ?? '{}'), allowAllSenders: true })).statusCode, 201)
    const sent = (await setup.send('BuildReport', { subject: name })).json()
    t.equal(sent.launch.state, 'launched', `${name}: launched`)
    const news = running.news()
    t.match(news, name === 'Post Invoices' ? /\[Dataverse stand-in\] desktop flow run \S+ started/ : /\[Control Room stand-in\] bot 4217 deployed/)
    t.match(news, name === 'Post Invoices' ? /desktop flow run \S+ status 4/ : /deployment \S+ COMPLETED/, 'the run ends after --finish-after')
    await database.db.updateTable('launches').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', sent.launch.id).execute()
    t.equal(await app.targetRuns.pollDue(), 1)
    t.equal((await database.db.selectFrom('launches').select('state').where('id', '=', sent.launch.id).executeTakeFirstOrThrow()).state, 'completed', `${name}: completed`)
  }
})
