import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, client } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Deciding a message reads the tenant, the sender and the robot; they are kept between messages
// for a few seconds, and every change an admin makes through mailrun reaches the next message.
t.test(`a change to senders, robots or the tenant reaches the very next message, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(async () => { await sim.close() })
  const { app, database } = await buildTestApp(t)
  const setup = await setUpLaunching(app, sim)
  const send = async (options: { subject?: string, from?: string } = {}) => (await setup.send('period = 2026-10\nBuildReport', options)).json()

  t.match(await send(), { status: 'accepted', launch: { state: 'launched' } }, 'Anna runs the robot (and what deciding read is kept)')

  t.equal((await setup.api('PATCH', `/api/v1/senders/${setup.senderId}`, { active: false })).statusCode, 200)
  t.match(await send(), { status: 'rejected', reason: 'the sender is deactivated' }, 'deactivated: the next message is refused')
  t.equal((await setup.api('PATCH', `/api/v1/senders/${setup.senderId}`, { active: true })).statusCode, 200)
  t.match(await send(), { status: 'accepted' }, 'active again: accepted')

  t.equal((await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { senderIds: [] })).statusCode, 200)
  t.match(await send(), { status: 'rejected', reason: 'not allowed to run "Monthly Report"' }, 'taken off the robot\'s allow-list: refused')
  t.equal((await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { name: 'Month End', senderIds: [setup.senderId] })).statusCode, 200)
  t.match(await send(), { status: 'rejected', reason: 'unknown robot "Monthly Report"' }, 'renamed: the old name is unknown')
  t.match(await send({ subject: 'Month End' }), { status: 'accepted' }, 'and the new one runs')

  t.match(await send({ from: 'Boris <boris@sender.example>' }), { status: 'rejected', reason: /unknown sender/ }, 'Boris is not a sender yet')
  const boris = await setup.api('POST', '/api/v1/senders', { fullName: 'Boris', email: 'boris@sender.example' })
  t.equal(boris.statusCode, 201)
  t.equal((await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { allowAllSenders: true })).statusCode, 200)
  t.match(await send({ subject: 'Month End', from: 'Boris <boris@sender.example>' }), { status: 'accepted' }, 'added: his next message runs')
  t.equal((await setup.api('DELETE', `/api/v1/senders/${boris.json().id as string}`)).statusCode, 204)
  t.match(await send({ subject: 'Month End', from: 'Boris <boris@sender.example>' }), { status: 'rejected', reason: /unknown sender/ }, 'deleted: refused again')

  t.equal((await setup.api('DELETE', `/api/v1/robots/${setup.robotId}`)).statusCode, 204)
  t.match(await send({ subject: 'Month End' }), { status: 'rejected', reason: 'unknown robot "Month End"' }, 'a deleted robot is unknown at once')

  // The tenant's settings, changed by the instance admin, are what the next reply is written with.
  t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })).statusCode, 200)
  const unknown = await send({ subject: 'Month End' })
  const reply = await database.db.selectFrom('notifications').select('text_body').where('message_id', '=', unknown.message).executeTakeFirstOrThrow()
  t.match(reply.text_body, /^Письмо не удалось выполнить\. Что исправить:[\s\S]*робота «Month End» нет/, 'the tenant now speaks Russian: so does the next reply')
  const robot = await setup.api('POST', '/api/v1/robots', { name: 'Payroll', processName: 'MonthlyReport', allowAllSenders: true })
  t.equal(robot.statusCode, 201, 'a new robot')
  t.match(await send({ subject: 'Payroll' }), { status: 'accepted' }, 'runs at once')
})
