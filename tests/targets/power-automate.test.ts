import { sql } from 'kysely'
import t from 'tap'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { FLOW_STATUS, startDataverseStandIn } from '../../src/simulator/dataverse.js'

// A robot that is a Power Automate desktop flow: the same email launches it through the Dataverse
// Web API (RunDesktopFlow, unattended), once — after an answer lost on the way the run is found by
// the launch id in its inputs, not started again —, its end is read from its flowsession with the
// outputs reaching the "finished" reply, a CANCEL cancels it, the 70-a-minute limit is waited out
// and credentials Entra refuses say so. Against a stand-in that follows the public contract.

const TENANT = 'acme.onmicrosoft.com'
const CLIENT_ID = '11112222-3333-4444-5555-666677778888'
const FLOW = 'f091ffab-58bb-4630-a115-659453d56f59'
const MACHINE = 'shared-uiflow-5f1c0e7a'

t.test(`Power Automate desktop flows launched by email on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const dv = await startDataverseStandIn()
  t.teardown(dv.close)
  dv.apps.push({ tenant: TENANT, clientId: CLIENT_ID, secret: 'app secret value' })
  dv.flows.add(FLOW)
  dv.connections.add(MACHINE)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const { api } = setup

  const body = { name: 'Finance flows', kind: 'power_automate', environmentUrl: dv.url, tenantId: TENANT, clientId: CLIENT_ID, clientSecret: 'app secret value', authority: dv.url }
  const made = await api('POST', '/api/v1/connections', body)
  t.equal(made.statusCode, 201, made.body)
  const connection = made.json()
  t.match(connection, { kind: 'power_automate', urlHost: dv.url, tenantId: TENANT, clientId: CLIENT_ID, secret: { set: true }, callbackUrl: null })
  t.notMatch(made.body, 'app secret value', 'the client secret is never answered')
  t.notOk('signingSecret' in connection)
  const robot = await api('POST', '/api/v1/robots', { name: 'Invoices', connectionId: connection.id, powerAutomate: { flowId: FLOW, connectionName: MACHINE }, allowAllSenders: true })
  t.equal(robot.statusCode, 201, robot.body)
  t.same(robot.json().powerAutomate, { flowId: FLOW, connectionName: MACHINE, connectionReference: false })

  const launchOf = async (id: string) => await db.selectFrom('launches').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const replies = async (launchId: string) => (await db.selectFrom('notifications').select(['text_body']).where('launch_id', '=', launchId).orderBy('created_at').execute()).map((n) => n.text_body)
  const starts = () => dv.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Microsoft.Dynamics.CRM.RunDesktopFlow'))
  const due = async (id: string) => await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', id).execute()

  t.test('the test signs in and finds the desktop flows', async (t) => {
    const test = await api('POST', `/api/v1/connections/${String(connection.id)}/test`)
    t.match(test.json(), { ok: true, steps: [{ step: 'sign in', ok: true }, { step: 'desktop flows', ok: true }] })
  })

  t.test('a dry run shows the RunDesktopFlow a launch sends, and sends nothing', async (t) => {
    const before = starts().length
    const dry = await api('POST', '/api/v1/test-sends', { robotId: robot.json().id, senderId: setup.senderId, text: 'period = 2026-10' })
    t.equal(dry.statusCode, 200, dry.body)
    t.match(dry.json(), { outcome: 'valid', request: { method: 'POST', path: `/api/data/v9.2/workflows(${FLOW})/Microsoft.Dynamics.CRM.RunDesktopFlow`, folder: null, body: { runMode: 'unattended', connectionName: MACHINE, connectionType: 1 } } })
    t.same(JSON.parse(dry.json().request.body.inputs), { period: '2026-10', MailrunLaunchId: '(the launch id)' })
    t.equal(starts().length, before)
  })

  t.test('an email runs the desktop flow once, unattended, and its outputs reach the "finished" reply', async (t) => {
    const before = starts().length
    const sent = (await setup.send('period = 2026-10\nExtractData: region = North\nBuildReport', { subject: 'Invoices' })).json()
    t.equal(sent.launch.state, 'launched', JSON.stringify(sent))
    const posted = starts().slice(before)
    t.equal(posted.length, 1)
    t.equal(posted[0]!.path, `/api/data/v9.2/workflows(${FLOW})/Microsoft.Dynamics.CRM.RunDesktopFlow`)
    const run = JSON.parse(posted[0]!.body) as { runMode: string, connectionName: string, connectionType: number, inputs: string }
    t.match(run, { runMode: 'unattended', connectionName: MACHINE, connectionType: 1 })
    t.same(JSON.parse(run.inputs), { period: '2026-10', in_Functions: '[{"name":"ExtractData","args":{"region":"North"}},{"name":"BuildReport","args":{}}]', MailrunLaunchId: sent.launch.id }, 'the inputs are one JSON string, the launch id in them')
    const row = await launchOf(sent.launch.id)
    t.ok(dv.sessions.has(row.job_key!), 'the flowsession id is kept')
    await due(sent.launch.id)
    t.equal(await app.targetRuns.pollDue(), 0, 'still running')
    dv.finish(row.job_key!, FLOW_STATUS.succeeded, { outputs: { InvoicesPosted: 42 } })
    await due(sent.launch.id)
    t.equal(await app.targetRuns.pollDue(), 1)
    t.match(await launchOf(sent.launch.id), { state: 'completed', output_arguments: { InvoicesPosted: 42 } })
    t.match((await replies(sent.launch.id)).at(-1), /InvoicesPosted/)
  })

  t.test('a failed run ends "faulted" with the flow\'s error', async (t) => {
    const sent = (await setup.send('BuildReport', { subject: 'Invoices' })).json()
    const row = await launchOf(sent.launch.id)
    dv.finish(row.job_key!, FLOW_STATUS.failed, { errorcode: 'MachineUnavailable', errormessage: 'No machine in the group is available' })
    await due(sent.launch.id)
    t.equal(await app.targetRuns.pollDue(), 1)
    t.match(await launchOf(sent.launch.id), { state: 'faulted', job_info: 'MachineUnavailable: No machine in the group is available' })
  })

  t.test('a start whose answer was lost is found by its launch id, not started again', async (t) => {
    const sessionsBefore = dv.sessions.size
    dv.failNextStarts(['lost'])
    const sent = (await setup.send('BuildReport', { subject: 'Invoices' })).json()
    t.equal(sent.launch.state, 'retrying')
    const unsure = await launchOf(sent.launch.id)
    t.ok(unsure.unsure_since, 'the launch is unsure: only look-ups until the quiet period has passed')
    t.match(unsure.last_error, /^no clear answer to the start \(could not reach Power Automate at|^no clear answer to the start/)
    t.equal(dv.sessions.size, sessionsBefore + 1, 'the run was made at the environment')
    await due(sent.launch.id)
    t.equal(await app.launches.runDue(), 1)
    const found = await launchOf(sent.launch.id)
    t.equal(found.state, 'launched')
    t.equal(dv.sessions.size, sessionsBefore + 1, 'no second run')
    t.equal(found.job_key, [...dv.sessions.values()].find((s) => JSON.parse(s.inputs).MailrunLaunchId === sent.launch.id)?.flowsessionid)
    const history = await db.selectFrom('launch_events').select('detail').where('launch_id', '=', sent.launch.id).execute()
    t.ok(history.some((h) => /found by MailrunLaunchId after an unclear attempt/.test(h.detail ?? '')))
  })

  t.test('CANCEL cancels the desktop flow run', async (t) => {
    const sent = (await setup.send('BuildReport', { subject: 'Invoices' })).json()
    const cancel = await api('POST', `/api/v1/launches/${String(sent.launch.id)}/cancel`, {})
    t.equal(cancel.statusCode, 200, cancel.body)
    t.equal(cancel.json().outcome, 'run_stop_requested')
    const row = await launchOf(sent.launch.id)
    t.equal(dv.sessions.get(row.job_key!)?.statuscode, FLOW_STATUS.cancelled)
    t.equal(await app.targetRuns.pollDue(), 1, 'looked at at once')
    t.equal((await launchOf(sent.launch.id)).state, 'stopped')
  })

  t.test('the 70-a-minute limit is waited out, not counted as a failure', async (t) => {
    dv.runsPerMinute = 0
    t.teardown(() => { dv.runsPerMinute = 70 })
    const sent = (await setup.send('BuildReport', { subject: 'Invoices' })).json()
    t.equal(sent.launch.state, 'retrying')
    const row = await launchOf(sent.launch.id)
    t.match(row.last_error, 'Power Automate is throttling desktop flow runs on this connection')
    t.equal(row.unsure_since, null, 'a 429 started nothing')
    t.ok(row.next_attempt_at!.getTime() > Date.now() + 900, 'Retry-After is waited out')
  })

  t.test('bad credentials and a missing flow fail at once, saying what to fix — in Russian too', async (t) => {
    const wrong = await api('POST', '/api/v1/connections', { ...body, name: 'Wrong secret', clientSecret: 'not the secret' })
    t.equal(wrong.statusCode, 201)
    t.match((await api('POST', `/api/v1/connections/${String(wrong.json().id)}/test`)).json(), { ok: false, steps: [{ step: 'sign in', ok: false, detail: /AADSTS7000215/ }] })
    t.equal((await api('POST', '/api/v1/robots', { name: 'Locked Out', connectionId: wrong.json().id, powerAutomate: { flowId: FLOW, connectionName: MACHINE }, allowAllSenders: true })).statusCode, 201)
    t.equal((await api('POST', '/api/v1/robots', { name: 'Ghost Flow', connectionId: connection.id, powerAutomate: { flowId: '00000000-0000-4000-8000-000000000000', connectionName: MACHINE }, allowAllSenders: true })).statusCode, 201)
    const locked = (await setup.send('BuildReport', { subject: 'Locked Out' })).json()
    t.equal(locked.launch.state, 'failed')
    t.match((await launchOf(locked.launch.id)).last_error, /^Microsoft Entra did not give a token for the Power Automate environment: .*AADSTS7000215/)
    t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })).statusCode, 200)
    t.teardown(async () => { await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'en' }) })
    const ghost = (await setup.send('BuildReport', { subject: 'Ghost Flow' })).json()
    t.equal(ghost.launch.state, 'failed')
    t.match((await launchOf(ghost.launch.id)).last_error, 'desktop flow 00000000-0000-4000-8000-000000000000 was not found in the Power Automate environment')
    const reply = (await replies(ghost.launch.id)).at(-1) ?? ''
    t.match(reply, 'классический поток 00000000-0000-4000-8000-000000000000 не найден в среде Power Automate')
    t.notMatch(reply, /was not found|environment \(/, 'no English sentence in the Russian reply')
  })

  t.test('a robot on Power Automate names its flow, and only such a robot does', async (t) => {
    t.equal((await api('POST', '/api/v1/robots', { name: 'No Flow', connectionId: connection.id })).statusCode, 400)
    const misplaced = await api('POST', '/api/v1/robots', { name: 'Misplaced', powerAutomate: { flowId: FLOW, connectionName: MACHINE } })
    t.equal(misplaced.statusCode, 400)
    t.match(misplaced.json().message, /powerAutomate/)
    t.equal((await api('POST', '/api/v1/connections', { ...body, name: 'Half', clientSecret: undefined })).statusCode, 400)
    t.equal((await api('POST', '/api/v1/connections', { ...body, name: 'Mixed', url: 'https://x.example/hook' })).statusCode, 400)
    t.equal((await api('PATCH', `/api/v1/connections/${String(connection.id)}`, { rotateSecret: true })).statusCode, 400, 'an http field on a power_automate connection')
  })
})
