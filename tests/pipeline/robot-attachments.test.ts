import { sql } from 'kysely'
import MailComposer from 'nodemailer/lib/mail-composer'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Attachments to the robot (#17, part 4): an accepted email's files go to the robot's storage
// bucket (GetWriteUri, then the upload) before StartJobs, and the job receives in_Attachments.

// A one-page PDF, as small as a valid one gets.
const INVOICE = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n')
const LOGO = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex')

interface File { filename: string, content: Buffer, contentType?: string, cid?: string }

t.test(`attachments reach the robot through its storage bucket, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport', 'ProcessInvoice'], buckets: ['Attachments'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const created = await setup.api('POST', '/api/v1/robots', {
    name: 'Process Invoice',
    processName: 'ProcessInvoice',
    senderIds: [setup.senderId],
    parameters: [{ name: 'supplier', type: 'string' }],
    attachments: { bucket: 'Attachments', folder: 'mail/in', types: ['pdf', 'png'], maxBytes: 64 * 1024 }
  })
  t.equal(created.statusCode, 201, created.body)
  t.same(created.json().attachments, { bucket: 'Attachments', folder: 'mail/in', types: ['pdf', 'png'], maxBytes: 65536 })
  const robotId = created.json().id as string

  let n = 0
  const send = async (files: File[], options: { text?: string, html?: string } = {}) => {
    const mime = await new MailComposer({ from: 'Anna Petrova <anna@sender.example>', to: 'robots@acme.example', subject: 'Process Invoice', messageId: `<files-${n++}@sender.example>`, text: options.text ?? 'supplier = Acme Paper', ...(options.html !== undefined ? { html: options.html } : {}), attachments: files }).compile().build()
    const response = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: mime })
    t.equal(response.statusCode, 200, response.body)
    return response.json()
  }
  const rawKept = async (messageId: string) => (await db.selectFrom('messages').select(['raw', 'raw_chunks', 'raw_spool']).where('id', '=', messageId).executeTakeFirstOrThrow())

  t.test('an invoice PDF is uploaded before the job starts, and the job is told where it is', async (t) => {
    // Outlook puts the signature's logo in the message as an inline part: not the sender's file.
    const answer = await send([{ filename: 'Счёт 42/2026.pdf', content: INVOICE, contentType: 'application/pdf' }, { filename: 'logo.png', content: LOGO, cid: 'logo@sig' }], { html: '<p>supplier = Acme Paper</p><img src="cid:logo@sig">' })
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    const launchId = answer.launch.id as string
    const blob = [...sim.blobs.values()].find((b) => b.path.startsWith(`mail/in/${launchId}/`))
    t.equal(blob?.path, `mail/in/${launchId}/2026.pdf`, 'in the bucket under the launch; the name cleaned of its directory part (the / was one)')
    t.ok(blob?.content.equals(INVOICE), 'byte for byte')
    t.equal(blob?.contentType, 'application/pdf')
    t.equal([...sim.blobs.values()].filter((b) => b.path.includes(launchId)).length, 1, 'the inline logo is not uploaded')
    const job = sim.jobs.at(-1)
    const args = JSON.parse(job?.InputArguments ?? '{}') as { supplier?: string, in_Attachments?: string }
    t.equal(args.supplier, 'Acme Paper')
    t.same(JSON.parse(args.in_Attachments ?? '[]'), [{ name: blob?.path.split('/').pop(), bucket: 'Attachments', path: blob?.path, size: INVOICE.length, contentType: 'application/pdf' }])
    const order = sim.requests.map((r) => r.path).filter((p) => /GetWriteUri|simulator\/blob|StartJobs/.test(p)).slice(-3)
    t.same(order.map((p) => p.replace(/^.*(GetWriteUri|simulator\/blob|StartJobs).*$/, '$1')), ['GetWriteUri', 'simulator/blob', 'StartJobs'], 'uploaded, then started')
    const raw = await rawKept(answer.message)
    t.same(raw, { raw: null, raw_chunks: null, raw_spool: null }, 'the raw copy kept for the upload is gone once the job started')
  })

  t.test('a file name written as raw windows-1251 bytes reaches the bucket and in_Attachments as its sender wrote it (#27)', async (t) => {
    const name = Buffer.from([0xcd, 0xe0, 0xea, 0xeb, 0xe0, 0xe4, 0xed, 0xe0, 0xff, 0x2e, 0x70, 0x64, 0x66]) // Накладная.pdf in windows-1251
    const raw = Buffer.concat([
      Buffer.from('From: Anna Petrova <anna@sender.example>\r\nTo: robots@acme.example\r\nSubject: Process Invoice\r\nMessage-ID: <raw-1251@sender.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\nsupplier = Acme Paper\r\n--B\r\nContent-Type: application/pdf; name="'),
      name, Buffer.from('"\r\nContent-Disposition: attachment; filename="'), name,
      Buffer.from(`"\r\nContent-Transfer-Encoding: base64\r\n\r\n${INVOICE.toString('base64')}\r\n--B--\r\n`)
    ])
    const answer = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    const launchId = answer.launch.id as string
    const blob = [...sim.blobs.values()].find((b) => b.path.startsWith(`mail/in/${launchId}/`))
    t.equal(blob?.path, `mail/in/${launchId}/Накладная.pdf`)
    const args = JSON.parse(sim.jobs.at(-1)?.InputArguments ?? '{}') as { in_Attachments?: string }
    t.match(JSON.parse(args.in_Attachments ?? '[]'), [{ name: 'Накладная.pdf' }])
  })

  t.test('files the robot does not take: programs, archives, other types, too large — the reply says which and why', async (t) => {
    const answer = await send([
      { filename: 'setup.exe', content: Buffer.from('MZ') },
      { filename: 'scans.zip', content: Buffer.from('PK') },
      { filename: 'notes.docx', content: Buffer.from('PK') },
      { filename: 'big.pdf', content: Buffer.alloc(100 * 1024, 1) }
    ])
    t.equal(answer.status, 'rejected')
    t.same(answer.problems.map((p: { text: string, message: string }) => ({ text: p.text, message: p.message })), [
      { text: 'setup.exe', message: 'programs and macro documents are not accepted: send the data itself (a PDF, a picture, a spreadsheet without macros)' },
      { text: 'scans.zip', message: 'archives are not accepted: attach the files themselves' },
      { text: 'notes.docx', message: 'this robot accepts only .pdf, .png files' },
      { text: 'big.pdf', message: 'the file is 100 KB; this robot accepts files up to 64 KB' }
    ])
    t.equal(answer.launch, undefined)
  })

  t.test('an upload that fails is retried with the launch; the job starts once', async (t) => {
    const jobs = sim.jobs.length
    sim.fail(/^PUT \/simulator\/blob\//, 503, { error: 'ServerBusy' })
    const answer = await send([{ filename: 'invoice.pdf', content: INVOICE, contentType: 'application/pdf' }])
    t.match(answer, { status: 'accepted', launch: { state: 'retrying' } })
    t.equal(sim.jobs.length, jobs, 'no job without its file')
    t.ok((await rawKept(answer.message)).raw !== null, 'the raw copy waits for the retry')
    await db.updateTable('launches').set({ next_attempt_at: sql<Date>`now() - interval '1 second'` }).where('id', '=', answer.launch.id).execute()
    await app.launches.runDue()
    t.match(await db.selectFrom('launches').select('state').where('id', '=', answer.launch.id).executeTakeFirstOrThrow(), { state: 'launched' })
    t.equal(sim.jobs.length, jobs + 1)
    t.ok([...sim.blobs.values()].some((b) => b.path === `mail/in/${String(answer.launch.id)}/invoice.pdf` && b.content.equals(INVOICE)))
  })

  t.test('a launch cancelled before its job started takes its files out of the bucket', async (t) => {
    // The file is uploaded, then Orchestrator throttles the start: the launch waits, pending.
    sim.fail(/StartJobs$/, 429, { message: 'Too many requests', errorCode: 0 }, { 'retry-after': '600' }, 5)
    const answer = await send([{ filename: 'invoice.pdf', content: INVOICE, contentType: 'application/pdf' }])
    t.match(answer, { status: 'accepted', launch: { state: 'retrying' } })
    const launchId = answer.launch.id as string
    t.ok([...sim.blobs.values()].some((b) => b.path.includes(launchId)), 'uploaded by the first attempt')
    const cancel = await app.inject({
      method: 'POST',
      url: `/inbound/${setup.ingressToken}/mime`,
      headers: { 'content-type': 'message/rfc822' },
      payload: await new MailComposer({ from: 'Anna Petrova <anna@sender.example>', to: 'robots@acme.example', subject: `cancel ${launchId}`, messageId: `<cancel-${launchId}@sender.example>`, text: '' }).compile().build()
    })
    t.match(cancel.json(), { status: 'accepted', reason: 'cancel requested: cancelled' })
    t.match(await db.selectFrom('launches').select('state').where('id', '=', launchId).executeTakeFirstOrThrow(), { state: 'stopped' })
    t.notOk([...sim.blobs.values()].some((b) => b.path.includes(launchId)), 'deleted from the bucket')
    t.same(await rawKept(answer.message), { raw: null, raw_chunks: null, raw_spool: null })
  })

  t.test('a launch that gives up deletes what it uploaded, and the raw copy', async (t) => {
    // The process is gone from Orchestrator: StartJobs cannot succeed after the upload did.
    t.equal((await setup.api('PATCH', `/api/v1/robots/${robotId}`, { processName: 'NoSuchProcess' })).statusCode, 200)
    t.teardown(async () => { await setup.api('PATCH', `/api/v1/robots/${robotId}`, { processName: 'ProcessInvoice' }) })
    const answer = await send([{ filename: 'invoice.pdf', content: INVOICE, contentType: 'application/pdf' }])
    t.match(answer, { status: 'accepted', launch: { state: 'failed', reason: /process "NoSuchProcess" was not found/ } })
    const launchId = answer.launch.id as string
    t.notOk([...sim.blobs.values()].some((b) => b.path.includes(launchId)), 'nothing left in the bucket')
    t.same(await rawKept(answer.message), { raw: null, raw_chunks: null, raw_spool: null })
  })

  t.test('a bucket that does not exist fails the launch with words that say so', async (t) => {
    t.equal((await setup.api('PATCH', `/api/v1/robots/${robotId}`, { attachments: { bucket: 'Missing' } })).statusCode, 200)
    t.teardown(async () => { await setup.api('PATCH', `/api/v1/robots/${robotId}`, { attachments: { bucket: 'Attachments', folder: 'mail/in', types: ['pdf', 'png'], maxBytes: 65536 } }) })
    const answer = await send([{ filename: 'invoice.pdf', content: INVOICE, contentType: 'application/pdf' }])
    t.match(answer, { status: 'accepted', launch: { state: 'failed', reason: 'storage bucket "Missing" was not found in folder "Finance" (or these credentials cannot see it)' } })
    const reply = await eventually(async () => await db.selectFrom('notifications').select(['kind', 'text_body']).where('message_id', '=', answer.message).executeTakeFirst())
    t.equal(reply.kind, 'failed')
  })

  t.test('attachments apply to job robots; a queue robot is told so', async (t) => {
    const queue = await setup.api('POST', '/api/v1/robots', { name: 'Queue With Files', launchMode: 'queue', queueName: 'Invoices', attachments: { bucket: 'Attachments' } })
    t.equal(queue.statusCode, 400)
    t.match(queue.json().details, [{ field: 'attachments', message: /job robots only/ }])
  })
})
