import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { startChatStandIns } from '../support/chat-stand-ins.js'
import { csrfOf, signedInAdmins } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpMailbox } from '../support/tenant-setup.js'
import { englishRuns } from '../support/english-runs.js'

// The console's Alerts page: an admin adds a channel, sends a test message and reads what the
// receiver answered — in English or Russian; a webhook's signing secret is shown once.

t.test(`the alerts pages on ${testDatabaseKind}`, async (t) => {
  const chat = await startChatStandIns()
  t.teardown(chat.close)
  const { app } = await buildTestApp(t, { env: { MAILRUN_CHATWORK_API_URL: chat.urls.chatworkApi } })
  const setup = await setUpMailbox(app)
  const { get, post, ada, olga: olgaJar } = await signedInAdmins(app, setup.api)

  t.test('an admin adds a Slack channel, tests it, and sees the delivery', async (t) => {
    const page = await get(ada, '/console/alerts')
    t.equal(page.statusCode, 200)
    t.match(page.body, 'No channel yet')
    const added = await post(ada, '/console/alerts', { _csrf: csrfOf(page.body), name: 'RPA team', kind: 'slack', url: chat.urls.slack, 'event.job.faulted': 'on', 'event.launch.failed': 'on' })
    t.equal(added.statusCode, 201, added.body.slice(0, 300))
    t.match(added.body, 'Channel &quot;RPA team&quot; added')
    t.notMatch(added.body, 'signing-secret', 'no secret for a Slack channel')
    const id = /href="\/console\/alerts\/([0-9a-f-]{36})"/.exec(added.body)?.[1] as string
    const channel = await get(ada, `/console/alerts/${id}`)
    t.match(channel.body, 'job faulted, launch gave up')
    t.notMatch(channel.body, new URL(chat.urls.slack).pathname, 'the URL with its token is not shown')
    const tested = await post(ada, `/console/alerts/${id}/test`, { _csrf: csrfOf(channel.body) })
    t.equal(tested.statusCode, 200)
    t.match(tested.body, 'The test message was delivered.')
    t.match(tested.body, /<td>test message<\/td><td>delivered<\/td><td>1<\/td><td><code>200 ok<\/code><\/td>/)
    t.match(JSON.parse(chat.requests.at(-1)!.body), { text: /The channel "RPA team" works/ })
  })

  t.test('a webhook channel shows its signing secret once', async (t) => {
    const page = await get(ada, '/console/alerts')
    const added = await post(ada, '/console/alerts', { _csrf: csrfOf(page.body), name: 'Tickets', kind: 'webhook', url: chat.urls.webhook('tickets'), 'event.job.faulted': 'on' })
    const secret = /<code id="signing-secret">(whsec_[^<]+)<\/code>/.exec(added.body)?.[1]
    t.ok(secret, 'shown on the page that made it')
    const again = await get(ada, '/console/alerts')
    t.notMatch(again.body, secret as string, 'and never again')
  })

  t.test('a refused form says what to fix', async (t) => {
    const page = await get(ada, '/console/alerts')
    const refused = await post(ada, '/console/alerts', { _csrf: csrfOf(page.body), name: 'No URL', kind: 'teams', 'event.job.faulted': 'on' })
    t.equal(refused.statusCode, 400)
    t.match(refused.body, 'URL: is required for a teams channel')
    const none = await post(ada, '/console/alerts', { _csrf: csrfOf(page.body), name: 'Nothing', kind: 'slack', url: chat.urls.slack })
    t.match(none.body, 'Events: choose at least one')
  })

  t.test('in Russian: the pages, a refusal and a channel that does not take the test', async (t) => {
    const page = await get(olgaJar, '/console/alerts')
    t.same(englishRuns(page.body, ['RPA team', 'Tickets']), [], 'no English sentence on the list')
    t.match(page.body, 'Каналы оповещений')
    const refused = await post(olgaJar, '/console/alerts', { _csrf: csrfOf(page.body), name: 'Чат', kind: 'chatwork', roomId: '42', 'event.job.faulted': 'on' })
    t.equal(refused.statusCode, 400)
    t.match(refused.body, 'API-токен Chatwork: обязательно для канала этого вида')
    const taken = await post(olgaJar, '/console/alerts', { _csrf: csrfOf(page.body), name: 'Tickets', kind: 'slack', url: chat.urls.slack, 'event.job.faulted': 'on' })
    t.equal(taken.statusCode, 409)
    t.match(taken.body, 'канал «Tickets» уже есть: выберите другое имя')
    const cyrillic = await post(olgaJar, '/console/alerts', { _csrf: csrfOf(page.body), name: 'Чат', kind: 'chatwork', roomId: '42', token: 'не тот токен', 'event.job.faulted': 'on' })
    t.equal(cyrillic.statusCode, 400, 'a token no header can carry is refused when typed, not at every delivery')
    t.match(cyrillic.body, 'API-токен Chatwork: должен быть API-токеном в том виде, как его показывает Chatwork')
    const added = await post(olgaJar, '/console/alerts', { _csrf: csrfOf(page.body), name: 'Чат', kind: 'chatwork', roomId: '42', token: 'not-the-token', 'event.job.faulted': 'on' })
    t.equal(added.statusCode, 201)
    const id = /href="\/console\/alerts\/([0-9a-f-]{36})">Чат/.exec(added.body)?.[1] as string
    const channel = await get(olgaJar, `/console/alerts/${id}`)
    const tested = await post(olgaJar, `/console/alerts/${id}/test`, { _csrf: csrfOf(channel.body) })
    t.match(tested.body, 'Канал не принял проверочное сообщение; попытка будет повторена.')
    t.match(tested.body, 'Invalid API token', "the receiver's own answer, quoted")
    t.same(englishRuns(tested.body, ['RPA team', 'Tickets']), [], 'no English sentence on the channel page')
    t.match(tested.body, /сбой с /)
  })
})
