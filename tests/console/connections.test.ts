import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { csrfOf, signedInAdmins } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { englishRuns } from '../support/english-runs.js'
import { startHttpTargetReceiver } from '../support/http-target-receiver.js'
import { setUpMailbox } from '../support/tenant-setup.js'
import { startControlRoomStandIn } from '../../src/simulator/control-room.js'
import { startDataverseStandIn } from '../../src/simulator/dataverse.js'

// The console's Connections page: an admin adds an HTTP target (its secret shown once), tests it,
// points a robot at it from the robot's form, and cannot delete it while the robot uses it — in
// English or Russian.

t.test(`the connections page on ${testDatabaseKind}`, async (t) => {
  const target = await startHttpTargetReceiver()
  t.teardown(target.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpMailbox(app)
  const { get, post, ada, olga: olgaJar } = await signedInAdmins(app, setup.api)

  t.test('an admin adds an HTTP target, sees its secret once, tests it and launches a robot through it', async (t) => {
    const page = await get(ada, '/console/orchestrator')
    t.equal(page.statusCode, 200)
    t.match(page.body, 'No HTTP target, Power Automate environment or Control Room yet.')
    const added = await post(ada, '/console/connections', { _csrf: csrfOf(page.body), name: 'n8n', url: `${target.url}/webhook/mailrun?token=hidden` })
    t.equal(added.statusCode, 201, added.body.slice(0, 300))
    t.match(added.body, 'Connection &quot;n8n&quot; added.')
    const secret = /<code id="signing-secret">(whsec_[^<]+)<\/code>/.exec(added.body)?.[1]
    t.ok(secret, 'the secret is shown on the page that made it')
    const again = await get(ada, '/console/orchestrator')
    t.notMatch(again.body, secret as string, 'and never again')
    t.notMatch(again.body, 'token=hidden', 'nor the URL, which may carry a token')
    const id = /action="\/console\/connections\/([0-9a-f-]{36})\/test"/.exec(again.body)?.[1] as string
    const tested = await post(ada, `/console/connections/${id}/test`, { _csrf: csrfOf(again.body) })
    t.match(tested.body, 'Test of &quot;n8n&quot;: The connection works.')
    t.match(tested.body, 'the target answered 404 to a GET (no run was started)')

    const form = await get(ada, `/console/robots/${setup.robotId}`)
    t.match(form.body, `<option value="${id}">HTTP target &quot;n8n&quot;</option>`)
    const fields = { _csrf: csrfOf(form.body), name: 'Monthly Report', launchMode: 'job', allowAllSenders: 'on', connectionId: id, functionsArgument: 'in_Functions' }
    const saved = await post(ada, `/console/robots/${setup.robotId}`, fields)
    t.equal(saved.statusCode, 303, saved.body.slice(0, 500))
    t.equal((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json().connectionId, id)
    const withFiles = await post(ada, `/console/robots/${setup.robotId}`, { ...fields, attachmentsInRequest: 'on', attachmentsTypes: 'pdf' })
    t.equal(withFiles.statusCode, 303, withFiles.body.slice(0, 500))
    t.match((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json().attachments, { bucket: '', types: ['pdf'] }, 'files in the request, no bucket')
    t.match((await get(ada, `/console/robots/${setup.robotId}`)).body, /name="attachmentsInRequest" checked/, 'the form shows it')
    await post(ada, `/console/robots/${setup.robotId}`, fields)
    t.equal((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json().attachments, null, 'unticked: none')
    const refused = await post(ada, `/console/connections/${id}/delete`, { _csrf: csrfOf(form.body) })
    t.equal(refused.statusCode, 409)
    t.match(refused.body, 'robots launch through this connection (&quot;Monthly Report&quot;)')
    await post(ada, `/console/robots/${setup.robotId}`, { ...fields, connectionId: '' })
    t.equal((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json().connectionId, null, 'blank: back to UiPath')
    const deleted = await post(ada, `/console/connections/${id}/delete`, { _csrf: csrfOf(form.body) })
    t.equal(deleted.statusCode, 303)
  })

  t.test('an admin adds a Power Automate environment and gives a robot its desktop flow', async (t) => {
    const dv = await startDataverseStandIn()
    t.teardown(dv.close)
    dv.apps.push({ tenant: 'acme.onmicrosoft.com', clientId: '11112222-3333-4444-5555-666677778888', secret: 'app secret' })
    const page = await get(ada, '/console/orchestrator')
    const missing = await post(ada, '/console/connections/power-automate', { _csrf: csrfOf(page.body), name: 'Flows', environmentUrl: dv.url, tenantId: 'acme.onmicrosoft.com', clientId: 'not-a-guid', clientSecret: 'app secret' })
    t.equal(missing.statusCode, 400)
    t.match(missing.body, 'value="acme.onmicrosoft.com"', 'the form keeps what was typed')
    const added = await post(ada, '/console/connections/power-automate', { _csrf: csrfOf(page.body), name: 'Flows', environmentUrl: dv.url, tenantId: 'acme.onmicrosoft.com', clientId: '11112222-3333-4444-5555-666677778888', clientSecret: 'app secret' })
    t.equal(added.statusCode, 201, added.body.slice(0, 300))
    t.match(added.body, 'Connection &quot;Flows&quot; added.')
    t.notMatch(added.body, 'app secret')
    t.match(added.body, /<td>Flows<\/td><td>Power Automate<\/td>/)
    const id = /action="\/console\/connections\/([0-9a-f-]{36})\/test"[\s\S]*?<\/tr>/.exec(added.body.slice(added.body.indexOf('<td>Flows</td>')))?.[1] as string
    const form = await get(ada, `/console/robots/${setup.robotId}`)
    t.match(form.body, 'Desktop flow id')
    const flowId = 'f091ffab-58bb-4630-a115-659453d56f59'
    const fields = { _csrf: csrfOf(form.body), name: 'Monthly Report', launchMode: 'job', allowAllSenders: 'on', connectionId: id, flowId, flowConnection: 'shared-uiflow-1', functionsArgument: 'in_Functions' }
    const noFlow = await post(ada, `/console/robots/${setup.robotId}`, { ...fields, flowId: '', flowConnection: '' })
    t.equal(noFlow.statusCode, 400)
    t.match(noFlow.body, 'is required for a robot on a power_automate connection')
    const saved = await post(ada, `/console/robots/${setup.robotId}`, fields)
    t.equal(saved.statusCode, 303, saved.body.slice(0, 500))
    t.match((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json(), { connectionId: id, powerAutomate: { flowId, connectionName: 'shared-uiflow-1', connectionReference: false } })
    const again = await get(ada, `/console/robots/${setup.robotId}`)
    t.match(again.body, `value="${flowId}"`)
    await post(ada, `/console/robots/${setup.robotId}`, { ...fields, connectionId: '', flowId: '', flowConnection: '' })
    t.match((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json(), { connectionId: null, powerAutomate: null })
    t.equal((await setup.api('DELETE', `/api/v1/connections/${id}`)).statusCode, 204)
  })

  t.test('an admin adds an Automation Anywhere Control Room, tests it and gives a robot its bot — in English and Russian', async (t) => {
    const cr = await startControlRoomStandIn()
    t.teardown(cr.close)
    cr.users.set('mailrun-bot', { id: 12, apiKey: 'the api key' })
    cr.bots.add(4217)
    const page = await get(ada, '/console/orchestrator')
    const added = await post(ada, '/console/connections/automation-anywhere', { _csrf: csrfOf(page.body), name: 'Bots', controlRoomUrl: cr.url, username: 'mailrun-bot', apiKey: 'the api key' })
    t.equal(added.statusCode, 201, added.body.slice(0, 300))
    t.notMatch(added.body, 'the api key')
    t.match(added.body, /<td>Bots<\/td><td>Automation Anywhere<\/td>/)
    const id = /action="\/console\/connections\/([0-9a-f-]{36})\/test"[\s\S]*?<\/tr>/.exec(added.body.slice(added.body.indexOf('<td>Bots</td>')))?.[1] as string
    const tested = await post(ada, `/console/connections/${id}/test`, { _csrf: csrfOf(added.body) })
    t.match(tested.body, 'Test of &quot;Bots&quot;: The connection works.')
    t.match(tested.body, /<strong>sign in<\/strong>: ✓ signed in to \S+ as mailrun-bot/)
    t.match(tested.body, '<strong>bots</strong>: ✓ the public workspace lists its bots to this user')
    const testedRu = await post(olgaJar, `/console/connections/${id}/test`, { _csrf: csrfOf((await get(olgaJar, '/console/orchestrator')).body) })
    t.match(testedRu.body, '<strong>боты</strong>: ✓ общий репозиторий показывает этому пользователю своих ботов')
    t.same(englishRuns(testedRu.body, ['Monthly Report', 'Bots', 'mailrun-bot']), [], 'no English sentence on the Russian page')

    const form = await get(ada, `/console/robots/${setup.robotId}`)
    t.match(form.body, `<option value="${id}">Automation Anywhere &quot;Bots&quot;</option>`)
    const fields = { _csrf: csrfOf(form.body), name: 'Monthly Report', launchMode: 'job', allowAllSenders: 'on', connectionId: id, botFileId: '4217', botRunAsUserIds: '31, 32', botPoolIds: '', functionsArgument: 'in_Functions' }
    const nowhere = await post(ada, `/console/robots/${setup.robotId}`, { ...fields, botRunAsUserIds: '' })
    t.equal(nowhere.statusCode, 400)
    t.match(nowhere.body, 'names no runAsUserIds and no poolIds')
    const robotRu = await get(olgaJar, `/console/robots/${setup.robotId}`)
    const nowhereRu = await post(olgaJar, `/console/robots/${setup.robotId}`, { ...fields, _csrf: csrfOf(robotRu.body), botRunAsUserIds: '' })
    t.match(nowhereRu.body, 'не указаны ни пользователи, ни пулы устройств')
    t.same(englishRuns(nowhereRu.body, ['Monthly Report', 'Bots']), [])
    const saved = await post(ada, `/console/robots/${setup.robotId}`, fields)
    t.equal(saved.statusCode, 303, saved.body.slice(0, 500))
    t.match((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json(), { connectionId: id, automationAnywhere: { fileId: 4217, runAsUserIds: [31, 32], poolIds: [] }, powerAutomate: null })
    t.match((await get(ada, `/console/robots/${setup.robotId}`)).body, 'value="31, 32"', 'the form shows the bot')
    const queued = await post(ada, `/console/robots/${setup.robotId}`, { ...fields, launchMode: 'queue', queueName: 'Vendor changes', botFileId: '', botRunAsUserIds: '', botQueueId: '5' })
    t.equal(queued.statusCode, 303, queued.body.slice(0, 500))
    t.match((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json(), { launchMode: 'queue', automationAnywhere: { queueId: 5 } }, 'a queue robot names its work queue')
    t.match((await get(ada, `/console/robots/${setup.robotId}`)).body, /id="botQueueId" name="botQueueId"[^>]*value="5"/)
    await post(ada, `/console/robots/${setup.robotId}`, { ...fields, launchMode: 'job' })
    await post(ada, `/console/robots/${setup.robotId}`, { ...fields, connectionId: '', botFileId: '', botRunAsUserIds: '' })
    t.match((await setup.api('GET', `/api/v1/robots/${setup.robotId}`)).json(), { connectionId: null, automationAnywhere: null })
    t.equal((await setup.api('DELETE', `/api/v1/connections/${id}`)).statusCode, 204)
  })

  t.test('in Russian, with nothing in English', async (t) => {
    const page = await get(olgaJar, '/console/orchestrator')
    t.match(page.body, 'HTTP-целей, сред Power Automate и Control Room пока нет.')
    const added = await post(olgaJar, '/console/connections', { _csrf: csrfOf(page.body), name: 'Раннер', url: `${target.url}/webhook/mailrun` })
    t.equal(added.statusCode, 201)
    t.match(added.body, 'Подключение «Раннер» добавлено.')
    const id = /action="\/console\/connections\/([0-9a-f-]{36})\/test"/.exec(added.body)?.[1] as string
    const tested = await post(olgaJar, `/console/connections/${id}/test`, { _csrf: csrfOf(added.body) })
    t.match(tested.body, 'цель ответила 404 на GET (запуск не начат)')
    t.same(englishRuns(tested.body, ['Раннер']), [], 'no English sentence on the page')
    const robot = await get(olgaJar, `/console/robots/${setup.robotId}`)
    t.match(robot.body, 'HTTP-цель «Раннер»')
    t.same(englishRuns(robot.body, ['Monthly Report']), [])
    const queue = await post(olgaJar, `/console/robots/${setup.robotId}`, { _csrf: csrfOf(robot.body), name: 'Monthly Report', launchMode: 'queue', queueName: 'Q', connectionId: id, functionsArgument: 'in_Functions' })
    t.equal(queue.statusCode, 400)
    t.match(queue.body, 'должен быть «задание» для робота, запускаемого через HTTP-цель')
    t.same(englishRuns(queue.body, ['Monthly Report']), [])
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { connectionId: id })
    const refused = await post(olgaJar, `/console/connections/${id}/delete`, { _csrf: csrfOf(robot.body) })
    t.equal(refused.statusCode, 409)
    t.match(refused.body, 'через это подключение запускаются роботы («Monthly Report»)')
    t.same(englishRuns(refused.body, ['Monthly Report', 'Раннер']), [])
  })
})
