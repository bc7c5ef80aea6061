import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// "Launch for real" exactly once (issue #29): the API takes an Idempotency-Key, and the console's
// form carries its own, so the same request twice never starts a second job.

t.test(`a test send launches once per key on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  const body = { robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-12\nBuildReport', dryRun: false }
  const send = async (key: string | null, payload: Record<string, unknown> = body) => await app.inject({
    method: 'POST', url: '/api/v1/test-sends', payload, headers: { authorization: `Bearer ${setup.api.key}`, ...(key !== null ? { 'idempotency-key': key } : {}) }
  })

  t.test('the API: the same key and body answer the first launch', async (t) => {
    const jobs = sim.jobs.length
    const first = await send('order-42')
    t.equal(first.statusCode, 200, first.body)
    t.match(first.json(), { outcome: 'launched', launch: { state: 'launched', jobId: Number } })
    const again = await send('order-42')
    t.same(again.json().launch.id, first.json().launch.id, 'the same launch')
    t.equal(again.json().messageId, first.json().messageId)
    const [a, b] = await Promise.all([send('order-43'), send('order-43')])
    t.equal(a.json().launch.id, b.json().launch.id, 'two at once: one launch')
    t.equal(sim.jobs.length, jobs + 2, 'two keys, two jobs')
    const other = await send('order-42', { ...body, text: 'period = 2027-01\nBuildReport' })
    t.equal(other.statusCode, 422)
    t.match(other.json().message, /already used for a different test send/)
    await send(null)
    await send(null)
    t.equal(sim.jobs.length, jobs + 4, 'without a key every request launches, as before')
    t.equal((await send('not a key with spaces')).statusCode, 400)
  })

  t.test('the console: the same form posted twice launches once', async (t) => {
    await setup.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: 'ada admin password' })
    const { get, post, signIn } = consoleClient(app)
    const { jar } = await signIn('ada@acme.example', 'ada admin password')
    const page = await get(jar, '/console/test-send')
    const attempt = /name="attempt" value="([0-9a-f-]{36})"/.exec(page.body)?.[1] ?? ''
    t.match(attempt, /^[0-9a-f-]{36}$/, 'the form carries its own key')
    const form = { _csrf: csrfOf(page.body), attempt, robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-12\nBuildReport', mode: 'launch' }
    const jobs = sim.jobs.length
    const first = await post(jar, '/console/test-send', form)
    t.equal(first.statusCode, 303)
    t.match(first.headers.location, /^\/console\/launches\/[0-9a-f-]+\?done=tested$/)
    const second = await post(jar, '/console/test-send', form)
    t.equal(second.headers.location, first.headers.location, 'posted again: the same launch')
    t.equal(sim.jobs.length, jobs + 1, 'one job')
    t.match((await get(jar, String(first.headers.location))).body, /Test launch made/)
    const dry = await post(jar, '/console/test-send', { ...form, mode: 'dry' })
    t.equal(dry.statusCode, 200, 'a dry run answers in place: it changes nothing')
    t.not(/name="attempt" value="([0-9a-f-]{36})"/.exec(dry.body)?.[1], attempt, 'with a new key for the next launch')
  })
})
