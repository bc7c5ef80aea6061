import { sql } from 'kysely'
import MailComposer from 'nodemailer/lib/mail-composer'
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { startHttpTargetReceiver } from '../support/http-target-receiver.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// A robot launched through a signed HTTP target (an n8n workflow, an Airflow DAG, a runner of the
// tenant's own): the same email, grammar and authorization as a UiPath robot; one POST per launch,
// signed, with the launch id as Idempotency-Key on every attempt; the run's end by a signed callback
// or by polling the statusUrl the target gave.

t.test(`an HTTP target launches robots by email on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const target = await startHttpTargetReceiver()
  t.teardown(target.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const { api } = setup

  const made = await api('POST', '/api/v1/connections', { name: 'n8n', kind: 'http', url: `${target.url}/webhook/mailrun` })
  t.equal(made.statusCode, 201, made.body)
  const connection = made.json()
  t.match(connection, { kind: 'http', urlHost: target.url, secret: { set: true }, signingSecret: /^whsec_/, callbackUrl: `https://mailrun.acme.example/webhooks/http/${String(connection.id)}`, robots: 0 })
  const secret: string = connection.signingSecret
  const robot = await api('POST', '/api/v1/robots', { name: 'Nightly Sync', connectionId: connection.id, allowAllSenders: true })
  t.equal(robot.statusCode, 201, robot.body)
  t.equal(robot.json().connectionId, connection.id)

  const launchOf = async (id: string) => await db.selectFrom('launches').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const replies = async (launchId: string) => (await db.selectFrom('notifications').select(['text_body']).where('launch_id', '=', launchId).orderBy('created_at').execute()).map((n) => n.text_body)
  const launches = () => target.requests.filter((r) => r.method === 'POST')
  const signedCallback = (body: unknown, options: { secret?: string, at?: Date } = {}) => {
    const payload = JSON.stringify(body)
    const id = `msg_${Date.now()}_${Math.random()}`
    const at = options.at ?? new Date()
    return { payload, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(options.secret ?? secret).sign(id, at, payload) } }
  }
  const callback = async (body: unknown, options: { secret?: string, at?: Date, connectionId?: string } = {}) => {
    const signed = signedCallback(body, options)
    return await app.inject({ method: 'POST', url: `/webhooks/http/${options.connectionId ?? String(connection.id)}`, headers: signed.headers, payload: signed.payload })
  }

  t.test('a command is POSTed once, signed, and a retry after a 503 carries the same key', async (t) => {
    target.answerWith([503])
    const before = launches().length
    const sent = (await setup.send('period = 2026-10\nExtractData: region = North\nBuildReport', { subject: 'Nightly Sync' })).json()
    t.equal(sent.launch.state, 'retrying', 'a 503 is worth another attempt')
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', sent.launch.id).execute()
    t.equal(await app.launches.runDue(), 1)
    const posts = launches().slice(before)
    t.equal(posts.length, 2)
    for (const post of posts) {
      t.equal(post.headers['idempotency-key'], sent.launch.id, 'Idempotency-Key is the launch id')
      t.equal(post.headers['webhook-id'], sent.launch.id)
      t.match(new Webhook(secret).verify(post.body, post.headers as Record<string, string>), {
        launchId: sent.launch.id,
        robot: 'Nightly Sync',
        sender: 'anna@sender.example',
        inputs: { period: '2026-10' },
        functions: [{ name: 'ExtractData', args: { region: 'North' } }, { name: 'BuildReport', args: {} }]
      }, 'the body verifies with the Standard Webhooks library')
    }
    const row = await launchOf(sent.launch.id)
    t.match(row, { state: 'launched', job_key: 'run-1', connection_id: connection.id, job_id: null })
    t.equal(target.runs.size, 1, 'one run at the target')
    t.match((await replies(sent.launch.id)).at(-1), /Nightly Sync/)

    // A callback finishes it, once; outputs reach the "finished" reply.
    const done = await callback({ launchId: sent.launch.id, status: 'completed', outputs: { rowsSynced: 1250 } })
    t.equal(done.statusCode, 200, done.body)
    t.same(done.json(), { handled: true, launch: sent.launch.id })
    t.match(await launchOf(sent.launch.id), { state: 'completed', output_arguments: { rowsSynced: 1250 } })
    t.match((await replies(sent.launch.id)).at(-1), /rowsSynced/)
    const again = await callback({ launchId: sent.launch.id, status: 'faulted' })
    t.same(again.json(), { handled: false, launch: sent.launch.id }, 'a callback sent again changes nothing')
    t.equal((await launchOf(sent.launch.id)).state, 'completed')
  })

  t.test('a dry run shows what the target would be sent, and sends nothing', async (t) => {
    const before = launches().length
    const dry = await api('POST', '/api/v1/test-sends', { robotId: robot.json().id, senderId: setup.senderId, text: 'period = 2026-10\nBuildReport' })
    t.equal(dry.statusCode, 200, dry.body)
    t.match(dry.json(), { outcome: 'valid', request: { method: 'POST', path: `${target.url}/…`, folder: null, body: { launchId: '(the launch id)', robot: 'Nightly Sync', sender: 'anna@sender.example', inputs: { period: '2026-10' }, functions: [{ name: 'BuildReport', args: {} }] } } })
    t.equal(launches().length, before)
  })

  t.test('callbacks that are not signed with the secret, late, or for another launch are refused', async (t) => {
    const sent = (await setup.send('BuildReport', { subject: 'Nightly Sync' })).json()
    t.equal(sent.launch.state, 'launched')
    const wrong = await callback({ launchId: sent.launch.id, status: 'completed' }, { secret: 'whsec_' + Buffer.alloc(24, 7).toString('base64') })
    t.equal(wrong.statusCode, 401)
    t.match(wrong.json().message, /signing secret/)
    const late = await callback({ launchId: sent.launch.id, status: 'completed' }, { at: new Date(Date.now() - 10 * 60_000) })
    t.equal(late.statusCode, 401)
    t.match(late.json().message, /5 minutes/)
    const unsigned = await app.inject({ method: 'POST', url: `/webhooks/http/${String(connection.id)}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ launchId: sent.launch.id, status: 'completed' }) })
    t.equal(unsigned.statusCode, 401)
    const uipathLaunch = (await setup.send()).json().launch
    t.equal((await callback({ launchId: uipathLaunch.id, status: 'completed' })).statusCode, 404, 'a launch that did not go through this connection')
    t.equal((await callback({ launchId: sent.launch.id, status: 'done' })).statusCode, 400)
    t.equal((await callback({ status: 'completed' })).statusCode, 400)
    t.equal((await callback({ launchId: sent.launch.id, status: 'completed', outputs: [1, 2] })).statusCode, 400)
    t.equal((await callback({ launchId: sent.launch.id, status: 'running' })).json().handled, false)
    t.equal((await app.inject({ method: 'POST', url: '/webhooks/http/00000000-0000-4000-8000-000000000000', headers: signedCallback({}).headers, payload: '{}' })).statusCode, 404)
    t.equal((await launchOf(sent.launch.id)).state, 'launched', 'none of them finished it')
  })

  t.test('a statusUrl the target gives is polled, signed, to the run\'s end', async (t) => {
    target.giveStatusUrl = true
    t.teardown(() => { target.giveStatusUrl = false })
    const sent = (await setup.send('BuildReport', { subject: 'Nightly Sync' })).json()
    t.equal(sent.launch.state, 'launched')
    const due = async () => await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', sent.launch.id).execute()
    await due()
    t.equal(await app.targetRuns.pollDue(), 0, 'still running')
    const run = target.runs.get(sent.launch.id)!
    Object.assign(run, { status: 'faulted', info: 'the ERP refused the login', outputs: { step: 'login' } })
    await due()
    t.equal(await app.targetRuns.pollDue(), 1)
    t.match(await launchOf(sent.launch.id), { state: 'faulted', job_info: 'the ERP refused the login', output_arguments: { step: 'login' } })
    const polls = target.requests.filter((r) => r.method === 'GET' && r.path === `/status/${run.runId}`)
    t.equal(polls.length, 2)
    const h = polls[0]!.headers as Record<string, string>
    t.equal(h['webhook-signature'], new Webhook(secret).sign(h['webhook-id']!, new Date(Number(h['webhook-timestamp']) * 1000), ''), 'each status request is signed (an empty body)')
    t.equal(h['webhook-id'], sent.launch.id)
    t.match((await replies(sent.launch.id)).at(-1), /the ERP refused the login/)
  })

  t.test('a 4xx fails the launch at once with the target\'s words, said in Russian to a Russian tenant', async (t) => {
    t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })).statusCode, 200)
    t.teardown(async () => { await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'en' }) })
    target.answerWith([{ status: 400, body: '{"message":"Workflow could not be started!"}' }])
    const sent = (await setup.send('BuildReport', { subject: 'Nightly Sync' })).json()
    t.equal(sent.launch.state, 'failed')
    t.match((await launchOf(sent.launch.id)).last_error, 'the HTTP target answered 400 to the launch: {"message":"Workflow could not be started!"}')
    const reply = (await replies(sent.launch.id)).at(-1) ?? ''
    t.match(reply, 'HTTP-цель ответила 400 на запуск')
    t.notMatch(reply, /answered|the launch/, 'no English sentence in the Russian reply')
  })

  t.test('the email\'s files travel in the request, and the kept copy of the email goes once it is launched', async (t) => {
    const bucketless = await api('POST', '/api/v1/robots', { name: 'Invoice Intake', connectionId: connection.id, allowAllSenders: true, attachments: { types: ['pdf'] } })
    t.equal(bucketless.statusCode, 201, bucketless.body)
    t.match(bucketless.json().attachments, { bucket: '', types: ['pdf'] })
    const withBucket = await api('POST', '/api/v1/robots', { name: 'Wrong Intake', connectionId: connection.id, attachments: { bucket: 'Attachments' } })
    t.equal(withBucket.statusCode, 400)
    t.match(withBucket.json().message, /attachments\.bucket is not used by a robot on an HTTP target/)
    const uipathWithout = await api('POST', '/api/v1/robots', { name: 'No Bucket', attachments: { types: ['pdf'] } })
    t.equal(uipathWithout.statusCode, 400, 'a UiPath robot still needs its bucket')
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 7), Buffer.from('\n%%EOF\n')])
    const mime = await new MailComposer({ from: 'Anna Petrova <anna@sender.example>', to: 'robots@acme.example', subject: 'Invoice Intake', messageId: `<intake-${Date.now()}@sender.example>`, text: 'supplier = Acme Paper', attachments: [{ filename: 'invoice-0042.pdf', content: pdf, contentType: 'application/pdf' }] }).compile().build()
    const before = launches().length
    const answer = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: mime })
    t.equal(answer.json().launch.state, 'launched', answer.body)
    const post = launches().slice(before)[0]!
    const sent = new Webhook(secret).verify(post.body, post.headers as Record<string, string>) as { attachments: Array<{ name: string, contentType: string, size: number, content: string }> }
    t.equal(sent.attachments.length, 1)
    t.match(sent.attachments[0], { name: 'invoice-0042.pdf', contentType: 'application/pdf', size: pdf.length })
    t.ok(Buffer.from(sent.attachments[0]!.content, 'base64').equals(pdf), 'the file, byte for byte')
    const kept = await db.selectFrom('messages').select(['raw', 'raw_chunks', 'raw_spool']).where('id', '=', answer.json().message).executeTakeFirstOrThrow()
    t.same(kept, { raw: null, raw_chunks: null, raw_spool: null }, 'the raw copy kept for the files is released')
    t.same((new Webhook(secret).verify(launches().at(-2)!.body, launches().at(-2)!.headers as Record<string, string>) as { attachments: unknown[] }).attachments ?? [], [], 'a robot without files gets an empty list')
  })

  t.test('a target that cannot be reached is retried, with where mailrun tried', async (t) => {
    const closed = await api('POST', '/api/v1/connections', { name: 'Gone', kind: 'http', url: 'http://127.0.0.1:9/webhook/mailrun' })
    t.equal(closed.statusCode, 201)
    t.equal((await api('POST', '/api/v1/robots', { name: 'Gone Robot', connectionId: closed.json().id, allowAllSenders: true })).statusCode, 201)
    const sent = (await setup.send('BuildReport', { subject: 'Gone Robot' })).json()
    t.equal(sent.launch.state, 'retrying')
    t.match((await launchOf(sent.launch.id)).last_error, /^could not reach the HTTP target at http:\/\/127\.0\.0\.1:9: the connection was refused/)
    t.equal((await api('DELETE', `/api/v1/connections/${String(closed.json().id)}`)).statusCode, 409, 'a connection robots use is not deleted')
  })

  t.test('cancel: before the start it is cancelled; after, the sender hears mailrun cannot stop it', async (t) => {
    const sent = (await setup.send('BuildReport', { subject: 'Nightly Sync' })).json()
    const cancel = await api('POST', `/api/v1/launches/${String(sent.launch.id)}/cancel`, {})
    t.equal(cancel.statusCode, 409)
    t.match(cancel.json().message, 'where mailrun cannot stop it (an HTTP target')
    const byMail = await setup.send('', { subject: `cancel ${String(sent.launch.id)}` })
    t.equal(byMail.statusCode, 200, byMail.body)
    const told = await db.selectFrom('notifications').select('text_body').where('kind', '=', 'cancel').orderBy('created_at', 'desc').executeTakeFirst()
    t.match(told?.text_body, 'runs on a system mailrun cannot stop')
    t.equal((await launchOf(sent.launch.id)).state, 'launched')
  })
})

t.test(`the connections API on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const target = await startHttpTargetReceiver()
  t.teardown(target.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  const { api } = setup

  t.test('the UiPath connection is listed first and changed only at /api/v1/orchestrator', async (t) => {
    const list = (await api('GET', '/api/v1/connections')).json()
    t.match(list.items, [{ id: setup.connectionId, kind: 'uipath', name: 'UiPath Orchestrator', urlHost: sim.url, robots: 1, callbackUrl: null }])
    t.equal((await api('PATCH', `/api/v1/connections/${setup.connectionId}`, { name: 'x' })).statusCode, 409)
    t.equal((await api('DELETE', `/api/v1/connections/${setup.connectionId}`)).statusCode, 409)
    t.equal((await api('GET', `/api/v1/connections/${setup.connectionId}`)).json().kind, 'uipath')
  })

  t.test('secrets and URLs are never shown back; a secret the receiver has can be brought', async (t) => {
    const own = 'whsec_' + Buffer.alloc(32, 3).toString('base64')
    const made = await api('POST', '/api/v1/connections', { name: 'Airflow', kind: 'http', url: `${target.url}/webhook/mailrun?token=s3cret`, signingSecret: own })
    t.equal(made.statusCode, 201, made.body)
    t.notOk('signingSecret' in made.json(), 'a secret brought is not answered back')
    const read = await api('GET', `/api/v1/connections/${String(made.json().id)}`)
    t.notMatch(read.body, /s3cret|whsec_/)
    const rotated = await api('PATCH', `/api/v1/connections/${String(made.json().id)}`, { rotateSecret: true })
    t.match(rotated.json().signingSecret, /^whsec_/)
    t.not(rotated.json().signingSecret, own)
    t.equal((await api('POST', '/api/v1/connections', { name: 'Airflow', kind: 'http', url: `${target.url}/x` })).statusCode, 409, 'names are unique')
    t.equal((await api('POST', '/api/v1/connections', { name: 'Bad', kind: 'http', url: `${target.url}/x`, signingSecret: 'whsec_short' })).statusCode, 400)
    t.equal((await api('POST', '/api/v1/connections', { name: 'Bad', kind: 'power_automate', url: `${target.url}/x` })).statusCode, 400)
  })

  t.test('a test checks the address and that something answers, without starting a run', async (t) => {
    const made = (await api('POST', '/api/v1/connections', { name: 'Probe', kind: 'http', url: `${target.url}/webhook/mailrun` })).json()
    const before = target.runs.size
    const test = await api('POST', `/api/v1/connections/${String(made.id)}/test`)
    t.equal(test.statusCode, 200)
    t.match(test.json(), { ok: true, steps: [{ step: 'address', ok: true }, { step: 'reachable', ok: true, detail: /answered 404 to a GET/ }] })
    t.equal(target.runs.size, before)
    const gone = (await api('POST', '/api/v1/connections', { name: 'Closed', kind: 'http', url: 'http://127.0.0.1:9/hook' })).json()
    t.match((await api('POST', `/api/v1/connections/${String(gone.id)}/test`)).json(), { ok: false, steps: [{ step: 'address', ok: true }, { step: 'reachable', ok: false, detail: /connection was refused/ }] })
  })

  t.test('a robot names a connection of its tenant, and one an HTTP target can take', async (t) => {
    const made = (await api('POST', '/api/v1/connections', { name: 'Runner', kind: 'http', url: `${target.url}/webhook/mailrun` })).json()
    const unknown = await api('POST', '/api/v1/robots', { name: 'Lost', connectionId: '00000000-0000-4000-8000-000000000000' })
    t.equal(unknown.statusCode, 400)
    t.match(unknown.json().message, /connectionId/)
    t.equal((await api('POST', '/api/v1/robots', { name: 'Queue One', connectionId: made.id, launchMode: 'queue', queueName: 'Q' })).statusCode, 400)
    t.equal((await api('POST', '/api/v1/robots', { name: 'Files', connectionId: made.id, attachments: { bucket: 'b' } })).statusCode, 400)
    const byUiPathId = await api('POST', '/api/v1/robots', { name: 'Explicit', connectionId: setup.connectionId })
    t.equal(byUiPathId.json().connectionId, null, 'the UiPath connection named by its id is the default')
    const moved = await api('PATCH', `/api/v1/robots/${setup.robotId}`, { connectionId: made.id })
    t.equal(moved.statusCode, 200, moved.body)
    t.equal(moved.json().connectionId, made.id)
    t.equal((await api('DELETE', `/api/v1/connections/${String(made.id)}`)).statusCode, 409)
    t.equal((await api('PATCH', `/api/v1/robots/${setup.robotId}`, { connectionId: null })).statusCode, 200)
    t.equal((await api('DELETE', `/api/v1/connections/${String(made.id)}`)).statusCode, 204)
  })
})
