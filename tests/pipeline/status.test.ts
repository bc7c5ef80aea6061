import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, client } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { addAllowedSender, eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// STATUS by email (#17, part 1): a sender asks "where is my job?" with the subject `status` (or
// `статус`), or `status <job number or launch id>`, and gets their own launches — never anyone
// else's.

t.test(`status by email, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const boris = { id: await addAllowedSender(setup, 'Boris Ivanov', 'boris@sender.example') }

  const launched = async (body: string, from?: string) => {
    const answer = (await setup.send(body, from !== undefined ? { from } : {})).json()
    t.equal(answer.status, 'accepted')
    return await eventually(async () => await db.selectFrom('launches').selectAll().where('message_id', '=', answer.message).where('state', '=', 'launched').executeTakeFirst())
  }
  const first = await launched('period = 2026-09\nBuildReport')
  const second = await launched('period = 2026-10\nBuildReport')
  const borisLaunch = await launched('period = 2026-11\nBuildReport', 'Boris Ivanov <boris@sender.example>')
  const replyTo = async (subject: string, from?: string): Promise<{ status: string, reason: string, text: string }> => {
    const answer = (await setup.send('', { subject, ...(from !== undefined ? { from } : {}) })).json()
    const reply = await eventually(async () => await db.selectFrom('notifications').select(['text_body', 'kind']).where('message_id', '=', answer.message).executeTakeFirst())
    t.equal(reply.kind, 'status')
    return { status: answer.status, reason: answer.reason, text: reply.text_body }
  }

  t.test('"status": the sender\'s last launches, newest first, and only theirs', async (t) => {
    const { status, reason, text } = await replyTo('status')
    t.equal(status, 'accepted')
    t.equal(reason, 'status requested')
    t.match(text, /^Your last launches, newest first:/)
    const jobs = [...text.matchAll(/job (\d+)/g)].map((m) => Number(m[1]))
    t.same(jobs, [second.job_id, first.job_id], 'Anna\'s two jobs, newest first')
    t.notMatch(text, new RegExp(`job ${String(borisLaunch.job_id)}\\b`), 'not Boris\'s')
    t.match(text, /• Monthly Report — running · job \d+ · started \d{4}-\d\d-\d\d \d\d:\d\d UTC/)
    t.match(text, /write the subject "status" and its job number/)
  })

  t.test("an admin's console test in a sender's name is not the sender's in their status", async (t) => {
    const test = await setup.api('POST', '/api/v1/test-sends', { robotId: setup.robotId, senderId: setup.senderId, text: 'period = 2026-12\nBuildReport', dryRun: false })
    t.match(test.json(), { outcome: 'launched', launch: { jobId: Number } })
    const testJob = Number(test.json().launch.jobId)
    const { text } = await replyTo('status')
    t.notMatch(text, new RegExp(`job ${testJob}\\b`), 'the test job is not listed')
    t.match(text, new RegExp(`job ${String(second.job_id)}\\b`), 'their own still are')
    const one = await replyTo(`status ${testJob}`)
    t.notMatch(one.text, new RegExp(`job ${testJob}\\b.*running`), 'nor found by its number')
    const cancel = (await setup.send('', { subject: `cancel ${testJob}` })).json()
    t.match(cancel.reason, /: not_found$/, 'nor cancelled by email in their name')
  })

  t.test('"status <job>": one launch with its history', async (t) => {
    const { text } = await replyTo(`Status ${String(first.job_id)}`)
    t.match(text, /^Your launch:/)
    t.match(text, new RegExp(`job ${String(first.job_id)}`))
    t.match(text, /History:\n {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}waiting to start — command accepted/)
    t.match(text, /running/)
    const byId = await replyTo(`status ${second.id}`)
    t.match(byId.text, new RegExp(`job ${String(second.job_id)}`), 'the launch id works too')
  })

  t.test('another sender\'s job, an unknown number, Russian and reply prefixes', async (t) => {
    const stranger = await replyTo(`status ${String(first.job_id)}`, 'Boris Ivanov <boris@sender.example>')
    t.match(stranger.text, new RegExp(`^None of your launches matches "${String(first.job_id)}"`), 'Anna\'s job is not shown to Boris')
    t.notMatch(stranger.text, /period/)
    t.match((await replyTo('status 999999')).text, /^None of your launches matches "999999"/)
    t.match((await replyTo('status please')).text, /^Your last launches/, 'a "please" is politeness, not a job number (#27)')
    t.match((await replyTo('Статус, пожалуйста')).text, /^Your last launches/)
    t.match((await replyTo('status nonsense')).text, /^None of your launches matches "nonsense"/)
    t.match((await replyTo('Статус')).text, /^Your last launches/, 'the Russian word (the reply follows the tenant\'s language)')
    t.match((await replyTo('RE: Fwd: status')).text, /^Your last launches/)
  })

  t.test('"status" as a reply in a launch\'s thread, found by References alone', async (t) => {
    const original = (await db.selectFrom('messages').select('dedupe_key').where('id', '=', first.message_id).executeTakeFirstOrThrow()).dedupe_key
    const thread = async (from?: string) => {
      const answer = (await setup.send('Status.\n\nOn Mon, mailrun wrote:\n> Robot "Monthly Report" has been started.', {
        subject: 'Re: Monthly Report',
        ...(from !== undefined ? { from } : {}),
        // The reply's own id is unknown to mailrun (it was the mail server's); only References lead back.
        headers: { 'In-Reply-To': '<reply-by-the-mail-server@mailrun.example>', References: `${original} <reply-by-the-mail-server@mailrun.example>` }
      })).json()
      t.equal(answer.reason, 'status requested in a thread')
      return (await eventually(async () => await db.selectFrom('notifications').select('text_body').where('message_id', '=', answer.message).executeTakeFirst())).text_body
    }
    const text = await thread()
    t.match(text, /^Your launch:/)
    t.match(text, new RegExp(`job ${String(first.job_id)}`), 'the launch the thread started')
    t.notMatch(text, new RegExp(`job ${String(second.job_id)}`))
    const stranger = await thread('Boris Ivanov <boris@sender.example>')
    t.notMatch(stranger, new RegExp(`job ${String(first.job_id)}\\b`), 'another sender in the same thread sees only their own')
    t.match(stranger, /^Your last launches/)
  })

  t.test('an operator of the robot sees every launch of it, with who sent it', async (t) => {
    const set = await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { operatorIds: [boris.id] })
    t.equal(set.statusCode, 200)
    t.same(set.json().operatorIds, [boris.id])
    const { text } = await replyTo('status', 'Boris Ivanov <boris@sender.example>')
    const jobs = [...text.matchAll(/job (\d+)/g)].map((m) => Number(m[1]))
    t.same(jobs, [borisLaunch.job_id, second.job_id, first.job_id], 'his own and Anna\'s, newest first')
    t.match(text, /sent by Anna Petrova <anna@sender\.example>/)
    t.match((await replyTo(`status ${String(first.job_id)}`, 'Boris Ivanov <boris@sender.example>')).text, /^Your launch:[\s\S]*History:/, 'and each one in detail')
    t.notMatch((await replyTo('status')).text, new RegExp(`job ${String(borisLaunch.job_id)}\\b`), 'Anna, not an operator, still sees only hers')
    const unknown = await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { operatorIds: ['00000000-0000-4000-8000-000000000000'] })
    t.equal(unknown.statusCode, 400)
    t.match(unknown.json().message, /operatorIds names senders that do not exist/)
  })

  t.test('in Russian for a Russian-speaking tenant', async (t) => {
    const tenant = (await db.selectFrom('mailboxes').select('tenant_id').where('id', '=', setup.mailboxId).executeTakeFirstOrThrow()).tenant_id
    t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${tenant}`, { locale: 'ru' })).statusCode, 200)
    const { text } = await replyTo('статус')
    t.match(text, /^Ваши последние запуски, сначала новые:/)
    t.match(text, /• Monthly Report — работает · задание \d+ · запущен /)
  })
})
