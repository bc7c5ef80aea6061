import { sql } from 'kysely'
import MailComposer from 'nodemailer/lib/mail-composer'
import t from 'tap'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { startControlRoomStandIn } from '../../src/simulator/control-room.js'

// A robot that is an Automation Anywhere bot: the same email deploys it through the Control Room
// API (a token from the user's API key, deploy with typed botInput), once — after an answer lost on
// the way the deployment is found by the automation name mailrun gave it, not deployed again —, its
// end is read from the activity list with the bot's output variables reaching the "finished" reply,
// a CANCEL stops it, a 429 is waited out, an expired token is renewed without a second deploy and a
// refused API key says so. Against a stand-in that follows the public contract.

const USER = 'mailrun-bot'
const API_KEY = 'Zt8vK2qLmN4pR7sW1xY5aB3cD6eF9gH0jK2lM4nP'
const BOT = 4217
const RUNNER = 31

t.test(`Automation Anywhere bots launched by email on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const cr = await startControlRoomStandIn()
  t.teardown(cr.close)
  cr.users.set(USER, { id: 12, apiKey: API_KEY })
  cr.bots.add(BOT)
  cr.runners.add(RUNNER)
  cr.pools.add(7)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const { api } = setup

  const body = { name: 'Control Room', kind: 'automation_anywhere', controlRoomUrl: cr.url, username: USER, apiKey: API_KEY }
  const made = await api('POST', '/api/v1/connections', body)
  t.equal(made.statusCode, 201, made.body)
  const connection = made.json()
  t.match(connection, { kind: 'automation_anywhere', urlHost: cr.url, username: USER, secret: { set: true }, callbackUrl: null, tenantId: null })
  t.notMatch(made.body, API_KEY, 'the API key is never answered')
  const robot = await api('POST', '/api/v1/robots', { name: 'Vendor Sync', connectionId: connection.id, automationAnywhere: { fileId: BOT, runAsUserIds: [RUNNER] }, allowAllSenders: true })
  t.equal(robot.statusCode, 201, robot.body)
  t.same(robot.json().automationAnywhere, { fileId: BOT, runAsUserIds: [RUNNER], poolIds: [] })
  t.equal(robot.json().powerAutomate, null)

  const launchOf = async (id: string) => await db.selectFrom('launches').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const replies = async (launchId: string) => (await db.selectFrom('notifications').select(['text_body']).where('launch_id', '=', launchId).orderBy('created_at').execute()).map((n) => n.text_body)
  const deploys = () => cr.requests.filter((r) => r.path === '/v3/automations/deploy')
  const signIns = () => cr.requests.filter((r) => r.path === '/v1/authentication')
  const due = async (id: string) => await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', id).execute()

  t.test('the test signs in and finds the bots', async (t) => {
    const test = await api('POST', `/api/v1/connections/${String(connection.id)}/test`)
    t.match(test.json(), { ok: true, steps: [{ step: 'sign in', ok: true, detail: `signed in to ${cr.url} as ${USER}` }, { step: 'bots', ok: true }] })
    t.notOk(signIns().some((r) => r.body.includes(API_KEY)), 'the key travels only in the sign-in body (the stand-in hides it)')
  })

  t.test('a dry run shows the deploy a launch sends, and sends nothing', async (t) => {
    const before = deploys().length
    const dry = await api('POST', '/api/v1/test-sends', { robotId: robot.json().id, senderId: setup.senderId, text: 'period = 2026-10' })
    t.equal(dry.statusCode, 200, dry.body)
    t.match(dry.json(), { outcome: 'valid', request: { method: 'POST', path: '/v3/automations/deploy', folder: null, body: { fileId: BOT, runAsUserIds: [RUNNER], botInput: { period: { type: 'STRING', string: '2026-10' } } } } })
    t.equal(deploys().length, before)
  })

  t.test('an email deploys the bot once with typed inputs, and its output variables reach the "finished" reply', async (t) => {
    const before = deploys().length
    const sent = (await setup.send('period = 2026-10\nExtractData: region = North\nBuildReport', { subject: 'Vendor Sync' })).json()
    t.equal(sent.launch.state, 'launched', JSON.stringify(sent))
    const posted = deploys().slice(before)
    t.equal(posted.length, 1)
    const deploy = JSON.parse(posted[0]!.body) as Record<string, unknown>
    t.match(deploy, { fileId: BOT, runAsUserIds: [RUNNER], numOfRunAsUsersToUse: 1, automationName: `mailrun ${String(sent.launch.id)}` })
    t.same(deploy.botInput, {
      period: { type: 'STRING', string: '2026-10' },
      in_Functions: { type: 'STRING', string: '[{"name":"ExtractData","args":{"region":"North"}},{"name":"BuildReport","args":{}}]' },
      MailrunLaunchId: { type: 'STRING', string: sent.launch.id }
    })
    const row = await launchOf(sent.launch.id)
    t.ok([...cr.activities.values()].some((a) => a.deploymentId === row.job_key), 'the deploymentId is kept')
    await due(sent.launch.id)
    t.equal(await app.targetRuns.pollDue(), 0, 'still running')
    cr.finish(row.job_key!, 'COMPLETED', { outputs: { VendorsSynced: { type: 'NUMBER', number: '17' }, Summary: { type: 'STRING', string: 'all vendors in step' } } })
    await due(sent.launch.id)
    t.equal(await app.targetRuns.pollDue(), 1)
    t.match(await launchOf(sent.launch.id), { state: 'completed', output_arguments: { VendorsSynced: 17, Summary: 'all vendors in step' } })
    t.match((await replies(sent.launch.id)).at(-1), /VendorsSynced/)
  })

  t.test('a failed run ends "faulted" with the Control Room\'s message', async (t) => {
    const sent = (await setup.send('BuildReport', { subject: 'Vendor Sync' })).json()
    const row = await launchOf(sent.launch.id)
    cr.finish(row.job_key!, 'RUN_FAILED', { message: 'Window "SAP Logon" not found' })
    await due(sent.launch.id)
    t.equal(await app.targetRuns.pollDue(), 1)
    t.match(await launchOf(sent.launch.id), { state: 'faulted', job_info: 'Window "SAP Logon" not found' })
  })

  t.test('a deploy whose answer was lost is found by its automation name, not deployed again', async (t) => {
    const before = cr.activities.size
    cr.failNextDeploys(['lost'])
    const sent = (await setup.send('BuildReport', { subject: 'Vendor Sync' })).json()
    t.equal(sent.launch.state, 'retrying')
    const unsure = await launchOf(sent.launch.id)
    t.ok(unsure.unsure_since, 'the launch is unsure: only look-ups until the quiet period has passed')
    t.equal(cr.activities.size, before + 1, 'the bot was deployed')
    await due(sent.launch.id)
    t.equal(await app.launches.runDue(), 1)
    const found = await launchOf(sent.launch.id)
    t.equal(found.state, 'launched')
    t.equal(cr.activities.size, before + 1, 'no second deployment')
    t.equal(found.job_key, [...cr.activities.values()].find((a) => a.automationName === `mailrun ${String(sent.launch.id)}`)?.deploymentId)
    const history = await db.selectFrom('launch_events').select('detail').where('launch_id', '=', sent.launch.id).execute()
    t.ok(history.some((h) => /found by its automation name .* after an unclear attempt/.test(h.detail ?? '')))
  })

  t.test('an expired token is renewed and the deploy sent once more: one run', async (t) => {
    cr.revokeTokens()
    const before = { deploys: deploys().length, signIns: signIns().length, runs: cr.activities.size }
    const sent = (await setup.send('BuildReport', { subject: 'Vendor Sync' })).json()
    t.equal(sent.launch.state, 'launched')
    t.equal(deploys().length, before.deploys + 2, 'the refused deploy, then the one that ran')
    t.equal(signIns().length, before.signIns + 1)
    t.equal(cr.activities.size, before.runs + 1)
  })

  t.test('CANCEL stops the bot', async (t) => {
    const sent = (await setup.send('BuildReport', { subject: 'Vendor Sync' })).json()
    const cancel = await api('POST', `/api/v1/launches/${String(sent.launch.id)}/cancel`, {})
    t.equal(cancel.statusCode, 200, cancel.body)
    t.equal(cancel.json().outcome, 'run_stop_requested')
    const row = await launchOf(sent.launch.id)
    const activity = [...cr.activities.values()].find((a) => a.deploymentId === row.job_key)
    t.equal(activity?.status, 'RUN_ABORTED')
    const manage = cr.requests.filter((r) => r.path === '/v3/activity/manage').at(-1)
    t.same(JSON.parse(manage!.body), { stop_executions: { execution_ids: [activity?.id] } })
    t.equal(await app.targetRuns.pollDue(), 1, 'looked at at once')
    t.equal((await launchOf(sent.launch.id)).state, 'stopped')
  })

  t.test('a 429 is waited out, not counted as a failure', async (t) => {
    cr.failNextDeploys([{ status: 429, message: 'Too many requests', retryAfter: 30 }])
    const sent = (await setup.send('BuildReport', { subject: 'Vendor Sync' })).json()
    t.equal(sent.launch.state, 'retrying')
    const row = await launchOf(sent.launch.id)
    t.match(row.last_error, 'the Control Room is throttling requests')
    t.equal(row.unsure_since, null, 'a 429 deployed nothing')
    t.ok(row.next_attempt_at!.getTime() > Date.now() + 25_000, 'Retry-After is waited out')
  })

  t.test('a refused API key and a missing bot fail at once, saying what to fix — in Russian too', async (t) => {
    const wrong = await api('POST', '/api/v1/connections', { ...body, name: 'Old key', apiKey: 'a revoked key' })
    t.equal(wrong.statusCode, 201)
    t.match((await api('POST', `/api/v1/connections/${String(wrong.json().id)}/test`)).json(), { ok: false, steps: [{ step: 'sign in', ok: false, detail: /refused the sign-in of mailrun-bot \(401\): Invalid credentials/ }] })
    t.equal((await api('POST', '/api/v1/robots', { name: 'Locked Out', connectionId: wrong.json().id, automationAnywhere: { fileId: BOT, poolIds: [7] }, allowAllSenders: true })).statusCode, 201)
    t.equal((await api('POST', '/api/v1/robots', { name: 'Ghost Bot', connectionId: connection.id, automationAnywhere: { fileId: 999, poolIds: [7] }, allowAllSenders: true })).statusCode, 201)
    const locked = (await setup.send('BuildReport', { subject: 'Locked Out' })).json()
    t.equal(locked.launch.state, 'failed')
    t.match((await launchOf(locked.launch.id)).last_error, /^the Control Room refused the sign-in of mailrun-bot \(401\)/)
    t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })).statusCode, 200)
    t.teardown(async () => { await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'en' }) })
    const ghost = (await setup.send('BuildReport', { subject: 'Ghost Bot' })).json()
    t.equal(ghost.launch.state, 'failed')
    t.match((await launchOf(ghost.launch.id)).last_error, 'bot 999 was not found in the Control Room\'s public workspace')
    const reply = (await replies(ghost.launch.id)).at(-1) ?? ''
    t.match(reply, 'бот 999 не найден в общем репозитории Control Room')
    t.notMatch(reply, /was not found|workspace/, 'no English sentence in the Russian reply')
  })

  t.test('a robot on Automation Anywhere names its bot and where it runs, and only such a robot does', async (t) => {
    t.equal((await api('POST', '/api/v1/robots', { name: 'No Bot', connectionId: connection.id })).statusCode, 400)
    const nowhere = await api('POST', '/api/v1/robots', { name: 'Nowhere', connectionId: connection.id, automationAnywhere: { fileId: BOT } })
    t.equal(nowhere.statusCode, 400)
    t.match(nowhere.json().message, /runAsUserIds and no poolIds/)
    const misplaced = await api('POST', '/api/v1/robots', { name: 'Misplaced', automationAnywhere: { fileId: BOT, poolIds: [7] } })
    t.equal(misplaced.statusCode, 400)
    t.match(misplaced.json().message, /automationAnywhere/)
    const queueWithBot = await api('POST', '/api/v1/robots', { name: 'Queue Bot', connectionId: connection.id, launchMode: 'queue', queueName: 'Vendors', automationAnywhere: { fileId: BOT, poolIds: [7] } })
    t.equal(queueWithBot.statusCode, 400)
    t.match(queueWithBot.json().message, /names its queue/)
    t.equal((await api('POST', '/api/v1/robots', { name: 'Job With Queue', connectionId: connection.id, automationAnywhere: { queueId: 5 } })).statusCode, 400, 'a job robot deploys a bot')
    t.equal((await api('POST', '/api/v1/robots', { name: 'Both', connectionId: connection.id, automationAnywhere: { fileId: BOT, queueId: 5, poolIds: [7] } })).statusCode, 400)
    t.equal((await api('POST', '/api/v1/connections', { ...body, name: 'Half', apiKey: undefined })).statusCode, 400)
    t.equal((await api('POST', '/api/v1/connections', { ...body, name: 'Mixed', clientSecret: 'x' })).statusCode, 400)
    const moved = await api('PATCH', `/api/v1/robots/${String(robot.json().id)}`, { description: 'kept' })
    t.same(moved.json().automationAnywhere, { fileId: BOT, runAsUserIds: [RUNNER], poolIds: [] }, 'a change that does not touch it keeps the bot')
  })

  t.test('a queue robot adds work items: the email\'s inputs as one, a spreadsheet\'s rows one each, never twice', async (t) => {
    cr.queues.set(5, { name: 'Vendor changes', attributes: new Set(['period', 'vendor', 'iban', 'in_Functions', 'MailrunReference']), items: [] })
    const made = await api('POST', '/api/v1/robots', { name: 'Vendor Changes', connectionId: connection.id, launchMode: 'queue', queueName: 'Vendor changes', automationAnywhere: { queueId: 5 }, allowAllSenders: true, parameters: [{ name: 'period', type: 'string' }, { name: 'vendor', type: 'string' }, { name: 'iban', type: 'string' }] })
    t.equal(made.statusCode, 201, made.body)
    t.same(made.json().automationAnywhere, { queueId: 5 })
    const dry = await api('POST', '/api/v1/test-sends', { robotId: made.json().id, senderId: setup.senderId, text: 'period = 2026-10' })
    t.match(dry.json(), { outcome: 'valid', request: { method: 'POST', path: '/v3/wlm/queues/5/workitems', body: { workItems: [{ json: { period: '2026-10', MailrunReference: '(the launch id)' } }] } } }, 'a dry run shows the work item')
    const items = () => cr.queues.get(5)?.items ?? []

    const one = (await setup.send('period = 2026-10', { subject: 'Vendor Changes' })).json()
    t.equal(one.launch.state, 'launched', JSON.stringify(one))
    t.same(items().map((i) => i.json), [{ period: '2026-10', MailrunReference: one.launch.id }], 'one work item, its reference the launch id')
    t.match((await replies(one.launch.id)).at(-1), /Vendor changes/)
    const cancel = await api('POST', `/api/v1/launches/${String(one.launch.id)}/cancel`, {})
    t.equal(cancel.statusCode, 409, 'a work item is the queue\'s now: mailrun cannot take it back')
    t.match(cancel.json().message, /where mailrun cannot stop it/)

    const csv = 'vendor;iban\nAcme Paper;DE89370400440532013000\nNordic Steel;SE4550000000058398257466\nBlue Ink;FR1420041010050500013M02606\n'
    const mime = async (id: string) => await new MailComposer({ from: 'Anna Petrova <anna@sender.example>', to: 'robots@acme.example', subject: 'Vendor Changes', messageId: `<${id}@sender.example>`, text: 'period = 2026-11', attachments: [{ filename: 'vendors.csv', content: csv, contentType: 'text/csv' }] }).compile().build()
    cr.failNextWorkItems(['lost'])
    const before = items().length
    const rows = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: await mime(`rows-${Date.now()}`) })).json()
    t.equal(rows.launch.state, 'retrying', 'the answer to the add was lost')
    t.equal(items().length, before + 3, 'the three were added all the same')
    await due(rows.launch.id)
    t.equal(await app.launches.runDue(), 1)
    t.equal((await launchOf(rows.launch.id)).state, 'launched')
    const added = items().slice(before)
    t.equal(items().length, before + 3, 'found by their references: none added twice')
    t.same(added.map((i) => i.json.MailrunReference), [2, 3, 4].map((n) => `${String(rows.launch.id)}#${n}`), "the launch and the row (the spreadsheet's own numbers, the header being row 1)")
    t.same(added.map((i) => i.json.vendor), ['Acme Paper', 'Nordic Steel', 'Blue Ink'])
    t.same(added.map((i) => i.json.period), ['2026-11', '2026-11', '2026-11'], 'the email\'s inputs in every row')
    const history = await db.selectFrom('launch_events').select('detail').where('launch_id', '=', rows.launch.id).execute()
    t.ok(history.some((h) => h.detail === '3 queue items added to Vendor changes'), JSON.stringify(history))

    cr.queues.set(6, { name: 'Strict', attributes: new Set(['period']), items: [] })
    t.equal((await api('POST', '/api/v1/robots', { name: 'Strict Queue', connectionId: connection.id, launchMode: 'queue', queueName: 'Strict', automationAnywhere: { queueId: 6 }, allowAllSenders: true })).statusCode, 201)
    const strict = (await setup.send('period = 2026-10', { subject: 'Strict Queue' })).json()
    t.equal(strict.launch.state, 'failed', 'a model without MailrunReference refuses the item: said at once')
    t.match((await launchOf(strict.launch.id)).last_error, /^the Control Room answered 400 to the work items: Attribute MailrunReference is not defined/)
  })
})
