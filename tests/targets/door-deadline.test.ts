import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { startHttpTargetReceiver } from '../support/http-target-receiver.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// The door answers at its deadline while a start is still on its way, and says who it waits for:
// a robot on an HTTP target is not waiting on Orchestrator. The start goes on and lands once.

t.test(`a slow platform: the door's answer names it on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const target = await startHttpTargetReceiver()
  t.teardown(target.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_LAUNCH_DEADLINE_MS: '300' } })
  const setup = await setUpLaunching(app, sim)
  const made = (await setup.api('POST', '/api/v1/connections', { name: 'n8n', kind: 'http', url: `${target.url}/webhook/mailrun` })).json()
  t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Nightly Sync', connectionId: made.id, allowAllSenders: true })).statusCode, 201)

  target.answerWith([{ status: 202, body: '{"runId":"run-slow"}', headers: { 'content-type': 'application/json' }, delayMs: 1500 }])
  const sent = (await setup.send('BuildReport', { subject: 'Nightly Sync' })).json()
  t.match(sent.launch, { state: 'retrying', reason: 'the HTTP target has not answered yet; mailrun keeps trying and will report the outcome' })
  t.notMatch(sent.launch.reason, 'Orchestrator')

  const until = Date.now() + 10_000
  let row = await database.db.selectFrom('launches').select(['state', 'job_key']).where('id', '=', sent.launch.id).executeTakeFirstOrThrow()
  while (row.state !== 'launched' && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    row = await database.db.selectFrom('launches').select(['state', 'job_key']).where('id', '=', sent.launch.id).executeTakeFirstOrThrow()
  }
  t.match(row, { state: 'launched', job_key: 'run-slow' }, 'the start went on after the door answered')
  t.equal(target.requests.filter((r) => r.method === 'POST').length, 1, 'once')
})
