import iconv from 'iconv-lite'
import { sql } from 'kysely'
import MailComposer from 'nodemailer/lib/mail-composer'
import t from 'tap'
import writeXlsxFile from 'write-excel-file/node'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// A spreadsheet sent to a queue robot (#17, part 3): every row becomes one queue item, added with
// BulkAddQueueItems in chunks, each with a Reference made of the launch and the row; problems are
// replied by row and column; a retry after a lost answer adds no row twice.

interface Attachment { filename: string, content: Buffer, contentType: string }

async function mimeWith (attachments: Attachment[], options: { subject?: string, text?: string, messageId: string }): Promise<Buffer> {
  // As a mail program writes it: multipart/mixed, the file base64-encoded.
  return await new MailComposer({
    from: 'Anna Petrova <anna@sender.example>',
    to: 'robots@acme.example',
    subject: options.subject ?? 'Pay Invoices',
    messageId: options.messageId,
    text: options.text ?? '',
    attachments
  }).compile().build()
}

t.test(`spreadsheet rows become queue items, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ queues: ['Invoices'], uniqueReferences: false })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_LAUNCH_QUIET_MS: '1000' } })
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const robot = await setup.api('POST', '/api/v1/robots', {
    name: 'Pay Invoices',
    processName: 'PayInvoices',
    launchMode: 'queue',
    queueName: 'Invoices',
    senderIds: [setup.senderId],
    parameters: [{ name: 'Account', type: 'string', required: true }, { name: 'Amount', type: 'number', required: true }, { name: 'Due', type: 'date' }, { name: 'Batch', type: 'string' }]
  })
  t.equal(robot.statusCode, 201, robot.body)
  t.equal(robot.json().invalidRows, 'reject', 'nothing is added from a file with invalid rows unless the robot says so')
  const robotId = robot.json().id as string

  let n = 0
  const send = async (attachments: Attachment[], options: { subject?: string, text?: string } = {}) => {
    const response = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: await mimeWith(attachments, { ...options, messageId: `<sheet-${n++}@sender.example>` }) })
    t.equal(response.statusCode, 200, response.body)
    return response.json()
  }
  const replyTo = async (messageId: string) => await eventually(async () => await db.selectFrom('notifications').select(['kind', 'text_body']).where('message_id', '=', messageId).executeTakeFirst())
  const itemsOf = (launchId: string) => sim.queueItems.filter((i) => (i.Reference ?? '').startsWith(`${launchId}#`))
  const bulkRequests = () => sim.requests.filter((r) => r.path.endsWith('UiPathODataSvc.BulkAddQueueItems'))

  t.test('a CSV from Excel in Russian (windows-1251, semicolons, a quoted line break, decimal commas): the rows, typed, in the queue, each with the launch and its row as Reference', async (t) => {
    const csv = 'Account;Amount;Due;Batch\r\nСЧ-001;1500,50;31.12.2026;"Иванов,\r\nвторая строка"\r\nСЧ-002;20;2026-12-01;\r\n;;;\r\nСЧ-003;7;;Пётр\r\n'
    const before = bulkRequests().length
    // The body is what people write to a colleague: not a command, and not read as one.
    const answer = await send([{ filename: 'счета.csv', content: iconv.encode(csv, 'windows-1251'), contentType: 'application/vnd.ms-excel' }], { text: 'Добрый день! Счета за декабрь во вложении.\n\nС уважением,\nАнна' })
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    const items = itemsOf(answer.launch.id)
    t.same(items.map((i) => [i.Reference, i.SpecificContent]), [
      [`${String(answer.launch.id)}#2`, { Account: 'СЧ-001', Amount: 1500.5, Due: '2026-12-31', Batch: 'Иванов,\r\nвторая строка' }],
      [`${String(answer.launch.id)}#3`, { Account: 'СЧ-002', Amount: 20, Due: '2026-12-01' }],
      // Row 4 is blank in the file: skipped, and row 5 keeps its number.
      [`${String(answer.launch.id)}#5`, { Account: 'СЧ-003', Amount: 7, Batch: 'Пётр' }]
    ])
    t.equal(bulkRequests().length - before, 1, 'one BulkAddQueueItems request')
    t.match(JSON.parse(bulkRequests().at(-1)?.body ?? '{}'), { queueName: 'Invoices', commitType: 'ProcessAllIndependently' })
    const reply = await replyTo(answer.message)
    t.equal(reply.kind, 'launched')
    t.match(reply.text_body, /3 rows were added to queue "Invoices", one queue item each\./)
    t.match(await db.selectFrom('launch_rows').select(['item_count', 'added_count']).where('launch_id', '=', answer.launch.id).executeTakeFirst(), { item_count: 3, added_count: 3 })
  })

  t.test('invalid rows: the reply lists them by row and column, and nothing is added', async (t) => {
    const csv = 'Account,Amount,Due\nACC-1,10,2026-12-01\nACC-2,ten,2026-12-01\n,5,\nACC-4,1,31.02.2026\n'
    const answer = await send([{ filename: 'invoices.csv', content: Buffer.from(csv), contentType: 'text/csv' }])
    t.equal(answer.status, 'rejected')
    t.same(answer.problems.map((p: { message: string }) => p.message), [
      'row 3, column "Amount": "ten" is not a number (write it like 42, 3.5 or 1 234,56)',
      'row 4, column "Account" is empty; it is required',
      'row 5, column "Due": "31.02.2026" is not a date (write it like 2024-05-31 or 31.05.2024)'
    ])
    t.equal(answer.launch, undefined)
    const reply = await replyTo(answer.message)
    t.equal(reply.kind, 'rejected')
    t.match(reply.text_body, /row 3, column "Amount": "ten" is not a number/)
  })

  t.test('a header that does not fit the robot is the one problem reported', async (t) => {
    const answer = await send([{ filename: 'invoices.csv', content: Buffer.from('Acount,Amount\nACC-1,10\n'), contentType: 'text/csv' }])
    t.equal(answer.status, 'rejected')
    t.match(answer.problems, [
      { message: /^row 1: the robot has no input "Acount"; its columns can be: Account \(text, required\), Amount \(a number, required\)/ },
      { message: 'row 1: the required column "Account" is missing (Account (text, required))' }
    ])
    t.equal(answer.problems.length, 2, 'no per-row noise')
  })

  t.test('with invalidRows "skip", the valid rows are added and the reply lists the others', async (t) => {
    t.equal((await setup.api('PATCH', `/api/v1/robots/${robotId}`, { invalidRows: 'skip' })).statusCode, 200)
    t.teardown(async () => { await setup.api('PATCH', `/api/v1/robots/${robotId}`, { invalidRows: 'reject' }) })
    const answer = await send([{ filename: 'invoices.csv', content: Buffer.from('Account,Amount\nACC-1,10\nACC-2,ten\nACC-3,3\n'), contentType: 'text/csv' }])
    t.match(answer, { status: 'accepted', reason: '1 invalid row left out', launch: { state: 'launched' } })
    t.same(itemsOf(answer.launch.id).map((i) => i.SpecificContent.Account), ['ACC-1', 'ACC-3'])
    const reply = await replyTo(answer.message)
    t.match(reply.text_body, /2 rows were added to queue "Invoices"/)
    t.match(reply.text_body, /1 row was left out because of these problems; fix them and send those rows again:\s+row 3, column "Amount": "ten" is not a number/)
  })

  t.test('an XLSX workbook with typed cells, and the body\'s values given to every item', async (t) => {
    const content = await writeXlsxFile([
      [{ value: 'Account' }, { value: 'Amount' }, { value: 'Due' }],
      [{ value: 'ACC-1' }, { value: 99.9, type: Number }, { value: new Date(Date.UTC(2026, 11, 24)), type: Date, format: 'dd.mm.yyyy' }],
      [{ value: 'ACC-2' }, { value: 1, type: Number }, null]
    ]).toBuffer()
    const answer = await send([{ filename: 'invoices.xlsx', content, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }], { text: 'Batch = December' })
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    t.same(itemsOf(answer.launch.id).map((i) => i.SpecificContent), [
      { Batch: 'December', Account: 'ACC-1', Amount: 99.9, Due: '2026-12-24' },
      { Batch: 'December', Account: 'ACC-2', Amount: 1 }
    ])
  })

  t.test('Russian Excel money (1 234,56 with a no-break space, "2 000 000,00", 1 500 руб.) is a number (#27)', async (t) => {
    const csv = 'Account;Amount\r\nСЧ-1;1\u00a0234,56\r\nСЧ-2;"2 000 000,00"\r\nСЧ-3;1 500 руб.\r\nСЧ-4;много\r\n'
    const rejected = await send([{ filename: 'счета.csv', content: iconv.encode(csv, 'windows-1251'), contentType: 'text/csv' }])
    t.equal(rejected.status, 'rejected', 'only the row that is no number at all is a problem')
    t.match(rejected.problems, [{ kind: 'bad_cell', params: { row: 5, column: 'Amount' } }])
    t.equal(rejected.problems.length, 1)
    const answer = await send([{ filename: 'счета.csv', content: iconv.encode(csv.replace('СЧ-4;много\r\n', ''), 'windows-1251'), contentType: 'text/csv' }])
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    t.same(itemsOf(answer.launch.id).map((i) => i.SpecificContent.Amount), [1234.56, 2000000, 1500])
  })

  t.test('Excel\'s "Unicode text" (.txt: UTF-16, tabs) is read like a CSV; a .txt note beside it is not a second spreadsheet (#27)', async (t) => {
    const content = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('Account\tAmount\r\nСЧ-7\t1 234,56\r\n', 'utf-16le')])
    const answer = await send([{ filename: 'Книга1.txt', content, contentType: 'text/plain' }])
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    t.same(itemsOf(answer.launch.id).map((i) => i.SpecificContent), [{ Account: 'СЧ-7', Amount: 1234.56 }])
    const withNote = await send([{ filename: 'invoices.csv', content: Buffer.from('Account,Amount\nACC-9,9\n'), contentType: 'text/csv' }, { filename: 'readme.txt', content: Buffer.from('December batch\n'), contentType: 'text/plain' }])
    t.match(withNote, { status: 'accepted', launch: { state: 'launched' } })
  })

  t.test('a column the robot does not take (a comment) is left out and named in the reply; with extraColumns "reject" the file is refused (#27)', async (t) => {
    const content = await writeXlsxFile([
      [{ value: 'Account' }, { value: 'Amount' }, { value: 'Комментарий' }],
      [{ value: 'ACC-1' }, { value: 5, type: Number }, { value: 'срочно' }]
    ]).toBuffer()
    const file = { filename: 'invoices.xlsx', content, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }
    t.equal((await setup.api('GET', `/api/v1/robots/${robotId}`)).json().extraColumns, 'ignore', 'ignore is the default')
    const answer = await send([file])
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    t.same(itemsOf(answer.launch.id).map((i) => i.SpecificContent), [{ Account: 'ACC-1', Amount: 5 }])
    t.match((await replyTo(answer.message)).text_body, /columns the robot does not take were left out: Комментарий/)
    t.equal((await setup.api('PATCH', `/api/v1/robots/${robotId}`, { extraColumns: 'reject' })).statusCode, 200)
    t.teardown(async () => { await setup.api('PATCH', `/api/v1/robots/${robotId}`, { extraColumns: 'ignore' }) })
    const refused = await send([file])
    t.match(refused, { status: 'rejected', problems: [{ kind: 'no_such_column', params: { title: 'Комментарий' } }] })
  })

  t.test('two spreadsheets, or a file that is not one: a reply that says what to send', async (t) => {
    const csv = { filename: 'a.csv', content: Buffer.from('Account,Amount\nA,1\n'), contentType: 'text/csv' }
    const two = await send([csv, { ...csv, filename: 'b.csv' }])
    t.match(two, { status: 'rejected', problems: [{ message: 'the email has 2 spreadsheets (a.csv, b.csv); send one per email' }] })
    const xls = await send([{ filename: 'old.xls', content: Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), contentType: 'application/vnd.ms-excel' }])
    t.match(xls, { status: 'rejected', problems: [{ text: 'old.xls', message: /Excel 97–2003 workbook \(\.xls\).*save it as \.xlsx or \.csv/ }] })
  })

  t.test('a job robot is not affected by an attachment', async (t) => {
    const before = sim.jobs.length
    const answer = await send([{ filename: 'a.csv', content: Buffer.from('x\n1\n'), contentType: 'text/csv' }], { subject: 'Monthly Report', text: 'period = 2026-10\nBuildReport' })
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    t.equal(sim.jobs.length, before + 1)
  })

  t.test('cancel deletes the items no robot has taken; отмена for a whole launch ends it stopped', async (t) => {
    const answer = await send([{ filename: 'invoices.csv', content: Buffer.from('Account,Amount\nA-1,1\nA-2,2\nA-3,3\n'), contentType: 'text/csv' }])
    const launchId = answer.launch.id as string
    const taken = itemsOf(launchId)[0]
    if (taken !== undefined) taken.Status = 'InProgress'
    const cancel = await send([], { subject: `cancel ${launchId}` })
    const reply = await replyTo(cancel.message)
    t.equal(reply.kind, 'cancel')
    t.match(reply.text_body, /2 queue items were deleted from robot "Pay Invoices"'s queue; 1 had already been taken up by a robot and stays\./)
    t.same(itemsOf(launchId).map((i) => i.Status), ['InProgress', 'Deleted', 'Deleted'])
    t.match(await db.selectFrom('launches').select('state').where('id', '=', launchId).executeTakeFirstOrThrow(), { state: 'launched' }, 'an item is still being worked on')
    t.ok(sim.requests.some((r) => r.path.endsWith('UiPathODataSvc.DeleteBulk')), 'through DeleteBulk, checked against the contract')

    const whole = await send([{ filename: 'invoices.csv', content: Buffer.from('Account,Amount\nB-1,1\nB-2,2\n'), contentType: 'text/csv' }])
    const russian = await send([], { subject: `отмена ${String(whole.launch.id)}` })
    // The verb in Russian; the reply in the tenant's language (English here).
    t.match((await replyTo(russian.message)).text_body, /2 queue items were deleted from robot "Pay Invoices"'s queue\./)
    t.same(itemsOf(whole.launch.id).map((i) => i.Status), ['Deleted', 'Deleted'])
    t.match(await db.selectFrom('launches').select('state').where('id', '=', whole.launch.id).executeTakeFirstOrThrow(), { state: 'stopped' })
    const events = await db.selectFrom('launch_events').select(['state', 'detail']).where('launch_id', '=', whole.launch.id).orderBy('id').execute()
    t.match(events.at(-1), { state: 'stopped', detail: '2 queue items deleted by anna@sender.example' })
  })

  t.test('10,000 rows: chunks of 1,000; an answer lost after the items were added; the retry adds each row once', async (t) => {
    const lines = ['Account,Amount']
    for (let i = 0; i < 10_000; i++) lines.push(`ACC-${i},${i}.25`)
    const before = bulkRequests().length
    // The first chunk is added, then its answer is lost (a gateway error after the write).
    sim.failAfterCreate(502, 1, /BulkAddQueueItems$/)
    const answer = await send([{ filename: 'accounts.csv', content: Buffer.from(lines.join('\r\n')), contentType: 'text/csv' }])
    t.equal(answer.status, 'accepted')
    const launchId = answer.launch.id as string
    t.equal(answer.launch.state, 'retrying', 'the unclear chunk makes the launch wait')
    t.equal(itemsOf(launchId).length, 1000, 'the first chunk was added before the answer was lost')
    const launch = await db.selectFrom('launches').select(['unsure_since']).where('id', '=', launchId).executeTakeFirstOrThrow()
    t.ok(launch.unsure_since !== null, 'only look-ups until the quiet period has passed')
    // Inside the quiet period: looked up, nothing sent.
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', launchId).execute()
    await app.launches.runDue()
    t.equal(itemsOf(launchId).length, 1000)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', launchId).execute()
    await app.launches.runDue()
    t.match(await db.selectFrom('launches').select(['state']).where('id', '=', launchId).executeTakeFirstOrThrow(), { state: 'launched' })
    const items = itemsOf(launchId)
    t.equal(items.length, 10_000, 'every row once, though the queue does not enforce unique references')
    t.equal(new Set(items.map((i) => i.Reference)).size, 10_000)
    t.equal(bulkRequests().length - before, 10, 'ten chunks; the one answered with a 502 was not sent again')
    t.ok(sim.requests.some((r) => r.path.endsWith('/odata/QueueItems') && r.query.get('$filter') === `startswith(Reference,'${launchId}#')`), 'what was added was listed by the Reference prefix')
    const replies = await db.selectFrom('notifications').select(['kind', 'text_body']).where('message_id', '=', answer.message).orderBy('created_at').execute()
    t.same(replies.map((r) => r.kind), ['failed', 'launched'], 'the sender heard of the delay once, then of the items')
    t.match(replies[1]?.text_body, /10000 rows were added to queue "Invoices"/)
  })
})
