import { sql } from 'kysely'
import t from 'tap'
import { sweepRetention } from '../../src/retention/retention-sweep.js'
import { buildTestApp } from '../support/app.js'
import { consoleClient, csrfOf } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Replaying a message (issue #29): refused before its sender was added, decided again under
// today's senders and robots, launching at most once.

t.test(`replaying a refused message on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const replay = async (id: string) => await setup.api('POST', `/api/v1/messages/${id}/replay`)

  t.test('refused before the sender was added, it launches once they are', async (t) => {
    const refused = (await setup.send(undefined, { from: 'Boris <boris@sender.example>' })).json()
    t.match(refused, { status: 'rejected', reason: /unknown sender/ })
    const stored = await db.selectFrom('messages').select(['subject', 'body', 'raw']).where('id', '=', refused.message).executeTakeFirstOrThrow()
    t.match(stored, { subject: null, body: null }, "a stranger's words are not kept where anyone reads them")
    t.ok(stored.raw !== null, 'the raw copy waits for a replay')

    const still = await replay(refused.message)
    t.equal(still.statusCode, 200)
    t.match(still.json(), { status: 'rejected', reason: /unknown sender/, message: { status: 'rejected' } }, 'replayed before anything changed: still refused')

    const boris = (await setup.api('POST', '/api/v1/senders', { fullName: 'Boris', email: 'boris@sender.example' })).json()
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { senderIds: [setup.senderId, boris.id] })
    const jobs = sim.jobs.length
    const [a, b] = await Promise.all([replay(refused.message), replay(refused.message)])
    const answers = [a, b].sort((x, y) => x.statusCode - y.statusCode)
    t.equal(answers[0]?.statusCode, 200)
    t.match(answers[0]?.json(), { status: 'accepted', launch: { state: 'launched' }, message: { status: 'accepted', senderId: boris.id, subject: 'Monthly Report' } })
    t.equal(answers[1]?.statusCode, 409, 'two replays at once: one decision')
    t.equal(sim.jobs.length, jobs + 1, 'one job')
    const again = await replay(refused.message)
    t.equal(again.statusCode, 409)
    t.match(again.json().message, /already launched its robot/)
    const launch = (await setup.api('GET', `/api/v1/launches/${String(answers[0]?.json().launch.id)}`)).json()
    t.match(launch.history.at(-1), { detail: /^replayed by API key mrt_[\w-]+ \(tests\)$/ })
  })

  t.test('only refused or failed messages, and only while their copy is kept', async (t) => {
    const accepted = (await setup.send()).json()
    t.equal((await replay(accepted.message)).statusCode, 409)
    const refused = (await setup.send('period = 2026-10\nNoSuchFunction')).json()
    t.equal(refused.status, 'rejected')
    await sql`update messages set processed_at = now() - interval '73 hours' where id = ${refused.message}`.execute(db)
    const swept = await sweepRetention(db, { defaultDays: 90, replayHours: 72 })
    t.ok(swept.replayCopies >= 1, 'the sweep drops copies past the replay window')
    const gone = await replay(refused.message)
    t.equal(gone.statusCode, 409)
    t.match(gone.json().message, /no longer kept \(refused messages are kept 72 hours/)
    t.equal((await replay('00000000-0000-4000-8000-000000000000')).statusCode, 404)
  })

  t.test('the console replays with a redirect, in the user\'s language', async (t) => {
    const refused = (await setup.send(undefined, { from: 'Vera <vera@sender.example>' })).json()
    const userId = (await setup.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: 'ada admin password' })).json().id
    await setup.api('PATCH', `/api/v1/users/${String(userId)}`, { locale: 'ru' })
    const { get, post, signIn } = consoleClient(app)
    const { jar } = await signIn('ada@acme.example', 'ada admin password')
    const page = await get(jar, `/console/messages/${String(refused.message)}`)
    t.match(page.body, /Разобрать заново/)
    await setup.api('POST', '/api/v1/senders', { fullName: 'Vera', email: 'vera@sender.example' })
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { allowAllSenders: true })
    const done = await post(jar, `/console/messages/${String(refused.message)}/replay`, { _csrf: csrfOf(page.body) })
    t.equal(done.statusCode, 303)
    const shown = await get(jar, String(done.headers.location))
    t.match(shown.body, /Письмо разобрано заново/)
    t.notMatch(shown.body, /\/replay"/, 'no button once it launched')
    const twice = await post(jar, `/console/messages/${String(refused.message)}/replay`, { _csrf: csrfOf(page.body) })
    t.equal(twice.statusCode, 409)
    t.match(twice.body, /Это письмо уже запустило робота/)
  })
})
