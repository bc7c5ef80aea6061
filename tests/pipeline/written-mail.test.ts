import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildReply, clientStyles } from '../support/client-styles.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// What people really write, end to end through the raw MIME door (#27): the robot gets exactly
// the command, the reply says what was set aside, and a Russian tenant's sender reads Russian only.

t.test(`mail as people write it, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t)
  const db = database.db
  const setup = await setUpLaunching(app, sim)
  const replyOf = async (messageId: string): Promise<{ kind: string, subject: string, text_body: string }> =>
    await eventually(async () => await db.selectFrom('notifications').select(['kind', 'subject', 'text_body']).where('message_id', '=', messageId).executeTakeFirst())
  const lastArgs = (): Record<string, unknown> => JSON.parse(sim.jobs.at(-1)?.InputArguments ?? '{}') as Record<string, unknown>

  t.test('a phone\'s signature and a sign-off below the command are set aside, and the reply names them', async (t) => {
    for (const [signature, shown] of [
      ['Sent from my iPhone', ['Sent from my iPhone']],
      ['Отправлено с iPhone', ['Отправлено с iPhone']],
      ['Get Outlook for Android', ['Get Outlook for Android']],
      ['Best regards,\nAnna Petrova\nAcme Corp', ['Best regards,', 'Anna Petrova', 'Acme Corp']],
      ['С уважением,\nАнна Петрова\nООО «Акме», финансовый отдел', ['С уважением,', 'Анна Петрова', 'ООО «Акме», финансовый отдел']],
      ['Anna Petrova\nFinance, Acme Corp\n+7 (495) 123-45-67', ['Anna Petrova', 'Finance, Acme Corp', '+7 (495) 123-45-67']]
    ] as const) {
      const answer = (await setup.send(`Hi,\n\nperiod = 2026-11\nBuildReport\n\n${signature}`)).json()
      t.match(answer, { status: 'accepted', launch: { state: 'launched' } }, signature)
      t.same(lastArgs().period, '2026-11')
      t.same(JSON.parse(String(lastArgs().in_Functions)), [{ name: 'BuildReport', args: {} }], `${signature}: no line of it is a function`)
      const reply = await replyOf(answer.message)
      t.match(reply.text_body, /Not read as part of the command \(taken for a greeting or a signature\):\n {2}«Hi,»/)
      for (const line of shown) t.match(reply.text_body, `«${line}»`)
    }
  })

  t.test('a mistyped function in a last paragraph is reported, not taken for a signature', async (t) => {
    const answer = (await setup.send('period = 2026-11\n\nBuildReprot')).json()
    t.equal(answer.status, 'rejected')
    t.match(answer.problems, [{ kind: 'no_such_function', params: { fn: 'BuildReprot' } }])
    const typo = (await setup.send('period = 2026-11\n\nExtractData: regon = North')).json()
    t.equal(typo.status, 'rejected', 'a line with = is a command line, whatever paragraph it stands in')
  })

  t.test('Russian Outlook\'s НА: is a reply prefix, and the reply carries one Re:', async (t) => {
    const answer = (await setup.send('period = 2026-11\nBuildReport', { subject: 'НА: RE: Re[2]: Monthly Report' })).json()
    t.match(answer, { status: 'accepted', launch: { state: 'launched' } })
    t.equal((await replyOf(answer.message)).subject, 'Re: Monthly Report')
  })

  t.test('a Cancel in HTML alone inside multipart/related (iPhone) stops the job instead of starting the robot again', async (t) => {
    const started = (await setup.send('period = 2026-11\nBuildReport', { messageId: '<iphone-start@sender.example>' })).json()
    const launch = await eventually(async () => await db.selectFrom('launches').select(['job_id']).where('id', '=', started.launch.id).where('state', '=', 'launched').executeTakeFirst())
    const jobs = sim.jobs.length
    const iphone = clientStyles.find((s) => s.name === 'iPhone')
    if (iphone === undefined) throw new Error('no iPhone style')
    const raw = buildReply({ style: iphone, form: 'html', fresh: ['Cancel'], quoted: ['Robot "Monthly Report" has been started.'], inReplyTo: '<iphone-start@sender.example>' })
    const answer = (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()
    t.equal(answer.reason, 'cancel requested in a thread: stop_requested')
    t.equal(sim.jobs.length, jobs, 'no second job')
    t.ok(sim.requests.some((r) => r.path.includes('StopJobs') && JSON.stringify(r.body).includes(String(launch.job_id))), 'StopJobs for the thread\'s job')
  })

  t.test('"Thanks!" and "Спасибо!" in a launch\'s thread: no launch, no email', async (t) => {
    await setup.send('period = 2026-11\nBuildReport', { messageId: '<thanks-start@sender.example>' })
    const jobs = sim.jobs.length
    for (const body of ['Thanks!', 'Спасибо!', 'Спасибо большое!\n\nАнна', 'Hi,\n\nthank you\n\nSent from my iPhone']) {
      const answer = (await setup.send(`${body}\n\nOn Sun, 6 Dec 2026 at 17:40, mailrun <robots@acme.example> wrote:\n> Robot "Monthly Report" has been started.`, { subject: 'Re: Monthly Report', headers: { 'In-Reply-To': '<thanks-start@sender.example>' } })).json()
      t.match(answer, { status: 'ignored', reason: 'a reply with nothing to run in it (a thank-you or a signature only)' }, body)
      await new Promise((resolve) => setTimeout(resolve, 100))
      t.equal((await db.selectFrom('notifications').select('id').where('message_id', '=', answer.message).execute()).length, 0, `${body}: no email`)
    }
    t.equal(sim.jobs.length, jobs)
    // Nothing above the quote is no thank-you: the command may stand below it, so it is answered.
    const bottom = (await setup.send('On Sun, 6 Dec 2026 at 17:40, mailrun <robots@acme.example> wrote:\n> Robot "Monthly Report" could not be run.\n\nperiod = 2026-11\nBuildReport', { subject: 'Re: Monthly Report', headers: { 'In-Reply-To': '<thanks-start@sender.example>' } })).json()
    t.equal(bottom.status, 'rejected', 'a bottom-posted command is not dropped unsaid')
    t.equal((await replyOf(bottom.message)).kind, 'rejected')
  })

  t.test('a Russian tenant\'s rejection is Russian from end to end', async (t) => {
    t.equal((await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'ru' })).statusCode, 200)
    t.teardown(async () => { await client(app, ADMIN_KEY)('PATCH', `/api/v1/tenants/${setup.tenantId}`, { locale: 'en' }) })
    const answer = (await setup.send('Добрый день!\n\nperod = 2026-11\nExtractData: region = North, curency = RUB\nBuidReport\n\nС уважением,\nАнна')).json()
    t.equal(answer.status, 'rejected')
    const reply = await replyOf(answer.message)
    t.match(reply.text_body, /Строка 3 «perod = 2026-11»: У робота «Monthly Report» нет параметра «perod»; есть такие: period \(текст, обязательно\)/)
    t.match(reply.text_body, /Строка 4 «ExtractData: region = North, curency = RUB»: У функции ExtractData нет параметра «curency»/)
    t.match(reply.text_body, /Строка 5 «BuidReport»: у робота Monthly Report нет функции «BuidReport»; есть такие: ExtractData, BuildReport, SendReport/)
    t.match(reply.text_body, /Роботу «Monthly Report» нужен параметр «period» \(текст\): добавьте period = …/)
    t.match(reply.text_body, /Не прочитано как часть команды \(похоже на приветствие или подпись\):\n {2}«Добрый день!»\n {2}«С уважением,»\n {2}«Анна»/)
    const english = reply.text_body.replace(/«[^»]*»|\b(?:Orchestrator|mailrun|period|ExtractData|BuildReport|SendReport|region|currency|to|text|Monthly Report)\b/g, '').match(/\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/)
    t.equal(english, null, 'no English phrase')
  })
})
