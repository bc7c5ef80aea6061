import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { newTenant } from '../support/admin.js'
import { testDatabaseKind } from '../support/database.js'

t.test(`senders and robots through HTTP on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const { api } = await newTenant(app, 'Acme')

  t.test('senders: create, read, change, list, delete; emails unique regardless of case', async (t) => {
    const created = await api('POST', '/api/v1/senders', { fullName: 'Анна Петрова', email: 'anna@acme.example' })
    t.equal(created.statusCode, 201)
    const anna = created.json()
    t.match(anna, { fullName: 'Анна Петрова', email: 'anna@acme.example', active: true })
    const dup = await api('POST', '/api/v1/senders', { fullName: 'Anna', email: 'ANNA@acme.example' })
    t.equal(dup.statusCode, 409)
    t.match(dup.json().message, /a sender with the email ANNA@acme.example already exists/)
    t.match((await api('PATCH', `/api/v1/senders/${anna.id}`, { active: false })).json(), { active: false, fullName: 'Анна Петрова' })
    t.same((await api('GET', `/api/v1/senders/${anna.id}`)).json().active, false)
    t.ok((await api('GET', '/api/v1/senders')).json().items.some((s: { id: string }) => s.id === anna.id))
    t.equal((await api('DELETE', `/api/v1/senders/${anna.id}`)).statusCode, 204)
    t.equal((await api('GET', `/api/v1/senders/${anna.id}`)).statusCode, 404)
  })

  t.test('a sender needs a valid email', async (t) => {
    const res = await api('POST', '/api/v1/senders', { fullName: 'Bob', email: 'not an address' })
    t.equal(res.statusCode, 400)
    t.match(res.json().details, [{ field: 'email', message: /format "idn-email"/ }])
  })

  t.test('robots: declared catalogue, defaults, allow-list, rename, delete', async (t) => {
    const bob = (await api('POST', '/api/v1/senders', { fullName: 'Bob', email: 'bob@acme.example' })).json()
    const created = await api('POST', '/api/v1/robots', {
      name: '  Monthly   Report ',
      folder: 'Finance',
      senderIds: [bob.id],
      parameters: [{ name: 'period', type: 'string', required: true }],
      functions: [{ name: 'ExtractData', parameters: [{ name: 'region', type: 'string', required: true }] }, { name: 'BuildReport' }]
    })
    t.equal(created.statusCode, 201)
    const robot = created.json()
    t.match(robot, {
      name: 'Monthly   Report',
      processName: 'Monthly   Report',
      folder: 'Finance',
      launchMode: 'job',
      queueName: null,
      functionsArgument: 'in_Functions',
      allowAllSenders: false,
      senderIds: [bob.id],
      parameters: [{ name: 'period', type: 'string', required: true }],
      functions: [{ name: 'ExtractData', parameters: [{ name: 'region', type: 'string', required: true }] }, { name: 'BuildReport', parameters: [] }]
    })
    const dup = await api('POST', '/api/v1/robots', { name: 'monthly report' })
    t.equal(dup.statusCode, 409, 'names compare case-insensitively with white space collapsed')

    const patched = await api('PATCH', `/api/v1/robots/${robot.id}`, { senderIds: [], allowAllSenders: true, processName: 'MonthlyReport' })
    t.equal(patched.statusCode, 200)
    t.match(patched.json(), { senderIds: [], allowAllSenders: true, processName: 'MonthlyReport' })
    t.equal((await database.db.selectFrom('robot_senders').where('robot_id', '=', robot.id).selectAll().execute()).length, 0)

    t.equal((await api('DELETE', `/api/v1/robots/${robot.id}`)).statusCode, 204)
    t.equal((await api('GET', `/api/v1/robots/${robot.id}`)).statusCode, 404)
  })

  t.test('a name email could never reach is refused, naming the word', async (t) => {
    for (const [name, word] of [['status', 'status'], ['Status report', 'Status'], ['Cancel orders', 'Cancel'], ['Отмена заказов', 'Отмена'], ['help', 'help'], ['Помощь', 'Помощь'], ['Статус', 'Статус']] as const) {
      const res = await api('POST', '/api/v1/robots', { name, allowAllSenders: true })
      t.equal(res.statusCode, 409, name)
      t.match(res.json().message.toLowerCase(), `an email whose subject is or starts with "${word.toLowerCase()}" is read as that request`)
    }
    for (const name of ['Statuses', 'Monthly status', 'Cancellation letters', 'Helpdesk']) t.equal((await api('POST', '/api/v1/robots', { name, allowAllSenders: true })).statusCode, 201, `${name} is fine`)
    const robot = (await api('GET', '/api/v1/robots?limit=100')).json().items.find((r: { name: string }) => r.name === 'Helpdesk')
    t.equal((await api('PATCH', `/api/v1/robots/${String(robot.id)}`, { name: 'Cancel' })).statusCode, 409, 'nor by renaming')
  })

  t.test('robot validation says what to fix', async (t) => {
    const queue = await api('POST', '/api/v1/robots', { name: 'Queued', launchMode: 'queue' })
    t.equal(queue.statusCode, 400)
    t.match(queue.json().details, [{ field: 'queueName', message: 'is required when launchMode is queue' }])

    const repeated = await api('POST', '/api/v1/robots', { name: 'Twice', functions: [{ name: 'Run' }, { name: 'run' }] })
    t.equal(repeated.statusCode, 400)
    t.match(repeated.json().details, [{ field: 'functions.1.name', message: /repeats the function name "run"/ }])

    const spaced = await api('POST', '/api/v1/robots', { name: 'Spaced', parameters: [{ name: 'two words', type: 'string' }] })
    t.equal(spaced.statusCode, 400)
    t.match(spaced.json().details, [{ field: 'parameters.0.name' }])

    const badType = await api('POST', '/api/v1/robots', { name: 'Typed', parameters: [{ name: 'x', type: 'float' }] })
    t.equal(badType.statusCode, 400)

    const ghost = await api('POST', '/api/v1/robots', { name: 'Ghost', senderIds: ['00000000-0000-4000-8000-000000000000'] })
    t.equal(ghost.statusCode, 400)
    t.match(ghost.json().details, [{ field: 'senderIds', message: /do not exist in this tenant: 00000000-0000-4000-8000-000000000000/ }])
    t.equal((await api('GET', '/api/v1/robots')).json().items.filter((r: { name: string }) => r.name === 'Ghost').length, 0, 'nothing half-created')
  })

  t.test('lists page with a cursor, newest first, without gaps or repeats', async (t) => {
    const { api: paging } = await newTenant(app, 'Paging')
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await paging('POST', '/api/v1/senders', { fullName: `S${i}`, email: `s${i}@paging.example` })).json().id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/api/v1/senders?limit=3${cursor !== null ? `&cursor=${cursor}` : ''}`
      const body: { items: Array<{ id: string }>, nextCursor: string | null } = (await paging('GET', url)).json()
      t.ok(body.items.length <= 3)
      seen.push(...body.items.map((s) => s.id))
      cursor = body.nextCursor
    } while (cursor !== null)
    t.same(seen, [...ids].reverse())
    const bad = await paging('GET', '/api/v1/senders?cursor=nonsense')
    t.equal(bad.statusCode, 400)
    t.match(bad.json().message, /^invalid cursor: pass the nextCursor of the previous page of this same list unchanged$/)
  })

  t.test('messages and launches are listed (empty until mail arrives)', async (t) => {
    t.same((await api('GET', '/api/v1/messages')).json(), { items: [], nextCursor: null })
    t.same((await api('GET', '/api/v1/launches?state=failed')).json(), { items: [], nextCursor: null })
    t.equal((await api('GET', '/api/v1/launches?state=exploded')).statusCode, 400)
  })
})
