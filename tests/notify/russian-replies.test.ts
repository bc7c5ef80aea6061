import t from 'tap'
import { problem, problemKinds, problemText, type ProblemKind, type ProblemParams } from '../../src/commands/problem-text.js'
import type { StatusReport } from '../../src/commands/status-report.js'
import type { CancelOutcome } from '../../src/launch/cancel-launch.js'
import { composeReply, type ReplyContent } from '../../src/notify/compose-reply.js'

// Every text a Russian tenant's sender reads is Russian (#27): every reply kind, every problem
// kind, the history lines of a STATUS reply, run times. The values put in are Russian or numbers,
// so any run of English words in what comes out is the catalogue's.

/** Two Latin words in a row ("could not", "is not a number"): an English phrase. Single Latin words are names (Orchestrator, CSV, iPhone). */
const ENGLISH_PHRASE = /\b[A-Za-z]{2,}[\s,]+(?:[A-Za-z]{2,}\b)/
/** Words that stay as they are in Russian text: product and format names, and the grammar's own keywords. */
const NAMES = /\b(?:Microsoft Entra|Power Automate|Control Room|deploymentId|Orchestrator|mailrun|Excel|CSV|XLSX|PDF|yes|no)\b/g

function englishIn (text: string): string | null {
  for (const line of text.split('\n')) {
    const match = ENGLISH_PHRASE.exec(line.replace(NAMES, '—'))
    if (match !== null) return `${match[0]} (in: ${line.trim()})`
  }
  return null
}

const declared = [{ name: 'период', type: 'date' as const, required: true }, { name: 'сумма', type: 'number' as const, required: false }]

/** A sample of every problem kind; a kind added without one fails to compile here. */
const samples: { [K in ProblemKind]: ProblemParams<K> } = {
  quote_not_closed: undefined,
  after_quoted: { name: 'период', inCall: true },
  stray_quote: { name: 'период' },
  no_value: { name: 'период' },
  name_missing: { what: 'function' },
  bad_name: { name: 'Отчёт месяца', what: 'input' },
  starts_with_value: undefined,
  needs_value: { piece: 'регион', fn: 'Выгрузка', word: 'регион' },
  given_twice_in_call: { name: 'регион', fn: 'Выгрузка' },
  comma_at_end: undefined,
  given_twice: { name: 'период', line: 2 },
  no_such_input: { owner: 'robot', name: 'Отчёт', input: 'перод', takes: declared },
  bad_value: { input: 'сумма', why: { fault: 'not_number', raw: 'много' } },
  needs_input: { owner: 'function', name: 'Выгрузка', input: 'регион', type: 'string' },
  no_such_function: { fn: 'Сборка', robot: 'Отчёт', has: ['Выгрузка', 'Отправка'] },
  subject_empty: undefined,
  no_such_robot: { robot: 'Отчёт' },
  too_many_files: { count: 21, max: 20 },
  program_file: undefined,
  archive_file: undefined,
  file_type: { types: ['pdf', 'png'] },
  file_too_large: { size: '12 МБ', max: '10 МБ' },
  attachment_too_large: { name: 'счёт.pdf', maxBytes: 1000 },
  several_sheets: { count: 2, names: ['счета.csv', 'акты.xlsx'] },
  sheet_not_read_back: { name: 'счета.csv' },
  csv_unreadable: { line: 4, detail: 'кавычка не закрыта' },
  xlsx_unreadable: { detail: 'повреждён' },
  csv_empty: undefined,
  old_excel: { name: 'счета.xls' },
  not_spreadsheet: { name: 'счета.doc' },
  workbook_too_large: { mb: 400, maxMb: 64, counted: true },
  workbook_unreadable: { detail: 'повреждён' },
  workbook_empty: undefined,
  too_many_rows: { max: 10000 },
  column_without_name: { column: 3 },
  column_twice: { title: 'сумма', first: 2, second: 5 },
  column_and_body: { title: 'период' },
  no_such_column: { title: 'сумма2', takes: declared },
  missing_column: { column: declared[0] ?? { name: 'период', type: 'date', required: true } },
  beyond_last_column: { row: 7, column: 4, value: '15' },
  bad_cell: { row: 7, column: 'сумма', why: { fault: 'date_for', expected: 'number' } },
  empty_required_cell: { row: 7, column: 'период' },
  no_rows: undefined,
  row_refused: { row: 7, code: '1016' },
  ignored_columns: { columns: ['Примечание'] },
  more_problems: { count: 5 }
}

const faults = [
  { fault: 'not_number', raw: 'много' }, { fault: 'not_boolean', raw: 'может быть' }, { fault: 'not_date', raw: 'вчера' },
  { fault: 'date_for', expected: 'boolean' }, { fault: 'number_for_date', raw: '45000' }, { fault: 'boolean_for', expected: 'date' }
] as const

t.test('every problem kind reads in Russian, with no English phrase', async (t) => {
  t.equal(problemKinds.length, Object.keys(samples).length)
  for (const kind of problemKinds) {
    const found = problem(kind, samples[kind] as never)
    const text = problemText(found, 'ru')
    t.equal(englishIn(text), null, `${kind}: ${text}`)
    t.not(text, found.message, `${kind} has words of its own in Russian`)
  }
  for (const why of faults) {
    t.equal(englishIn(problemText(problem('bad_cell', { row: 2, column: 'сумма', why }), 'ru')), null, why.fault)
    t.equal(englishIn(problemText(problem('bad_value', { input: 'сумма', why }), 'ru')), null, why.fault)
  }
})

const robot = { name: 'Отчёт', description: 'ежемесячный', parameters: declared, functions: [{ name: 'Выгрузка', parameters: declared }] }
const plan = { arguments: { период: '2026-10-01' }, functions: [{ name: 'Выгрузка', args: {} }], ignored: ['С уважением,', 'Анна'] }
const someProblems = problemKinds.map((kind) => problem(kind, samples[kind] as never, { line: 3, text: 'сумма = много' }))
const line = (state: string, extra: Partial<StatusReport['launches'][number]> = {}): StatusReport['launches'][number] => ({ id: 'a', robot: 'Отчёт', state, jobId: 42, createdAt: '2026-12-06T10:00:00Z', launchedAt: '2026-12-06T10:00:01Z', finishedAt: null, summary: null, by: null, ...extra })
// Every history line mailrun writes, in the forms the launch service, job tracker and cancel write them.
const history = [
  'command accepted', 'job 42 started', 'job 42 found by reference after an unclear attempt', '12 queue items added to Счета; 2 refused',
  '1 queue item added to Счета', 'queue item added to Счета', 'queue item found by reference after an unclear attempt in Счета', 'queue item was already in Счета',
  'cancelled by anna@acme.example before it started', 'stop requested by anna@acme.example', 'kill requested by anna@acme.example',
  '3 queue items deleted by anna@acme.example; 1 already taken by a robot', 'job Successful', 'job Faulted: селектор не найден', 'job Stopped',
  // Other platforms: an HTTP target, a Power Automate desktop flow.
  'run run-7 started at the HTTP target', 'run started at the HTTP target', 'desktop flow run 0b6f6a64-5a0e-4b52-9a59-2f5d8d3c1e7a started',
  'desktop flow run 0b6f6a64-5a0e-4b52-9a59-2f5d8d3c1e7a found by MailrunLaunchId after an unclear attempt', 'run completed', 'run faulted: нет связи с ERP', 'run stopped',
  // An Automation Anywhere bot.
  'bot deployment 5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f started', 'bot deployment 5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f found by its automation name "mailrun <launch id>" after an unclear attempt'
].map((detail, i) => ({ at: `2026-12-06T10:00:${String(i).padStart(2, '0')}Z`, state: 'launched', detail }))

const cancels: CancelOutcome[] = [
  { outcome: 'cancelled', robot: 'Отчёт' }, { outcome: 'stop_requested', robot: 'Отчёт', jobId: 42, kill: false }, { outcome: 'stop_requested', robot: 'Отчёт', jobId: 42, kill: true },
  { outcome: 'starting', robot: 'Отчёт' }, { outcome: 'ended', robot: 'Отчёт', state: 'completed' }, { outcome: 'queue_item', robot: 'Отчёт' },
  { outcome: 'queue_deleted', robot: 'Отчёт', deleted: 3, kept: 1 }, { outcome: 'stop_failed', robot: 'Отчёт', jobId: 42, reason: 'нет связи' },
  { outcome: 'not_found', ref: '' }, { outcome: 'not_found', ref: '99' },
  { outcome: 'not_stoppable', robot: 'Отчёт' }, { outcome: 'run_stop_requested', robot: 'Отчёт' }, { outcome: 'run_stop_failed', robot: 'Отчёт', reason: 'Power Automate answered 403 to the cancel' }
] as CancelOutcome[]

// Every reason a launch fails or waits for, in the forms the launch service and the Orchestrator client write them.
const reasons = [
  'Orchestrator folder "Финансы" was not found (or these credentials cannot see it)', 'process "Отчёт" was not found in folder "Финансы"',
  'Orchestrator refused every row of the spreadsheet (строка 2: 1016)', 'the robot was deleted before it could be launched',
  'no Orchestrator connection is configured for this tenant (PUT /api/v1/orchestrator)', 'robot "Отчёт" names no folder and the Orchestrator connection has no default folder',
  'gave up after 5 attempts: Orchestrator had a server error (500)', 'no clear answer to the start (Orchestrator at http://127.0.0.1:1 did not answer within 10 s (UND_ERR_HEADERS_TIMEOUT))',
  'the job was not found yet after an unclear start', '3 of 10 rows found in the queue after an unclear attempt',
  'the command is too large for Orchestrator: its input arguments take 12000 characters and the limit is 10000; send fewer functions or shorter values',
  'no robot machine with an unattended runtime is available in folder "Финансы"', 'no user with an unattended robot is assigned to folder "Финансы"',
  'Orchestrator folder "Финансы" was not found', 'the request did not name a folder', 'process "Отчёт" was not found in folder "Финансы"',
  'Orchestrator did not accept the credentials (expired or invalid)', 'the Orchestrator credentials lack a permission this needs (check the external application scopes or the user roles)',
  'Orchestrator is throttling requests', 'Orchestrator had a server error (502)', 'Orchestrator answered 400: Неверный запрос', 'Orchestrator answered 418',
  'could not connect to Orchestrator at http://127.0.0.1:1 within the connect timeout (UND_ERR_CONNECT_TIMEOUT)', 'could not reach Orchestrator at http://127.0.0.1:1: connection refused (ECONNREFUSED)',
  'Orchestrator has not answered yet; mailrun keeps trying and will report the outcome', 'the HTTP target has not answered yet; mailrun keeps trying and will report the outcome',
  'Power Automate has not answered yet; mailrun keeps trying and will report the outcome', 'the Control Room has not answered yet; mailrun keeps trying and will report the outcome', 'the launch will be retried',
  'the Orchestrator connection or the robot\'s folder is no longer known',
  // Other platforms.
  'the HTTP target answered 400 to the launch: {"message":"процесс не запущен"}', 'the HTTP target answered 503 to the launch',
  'could not reach the HTTP target at http://127.0.0.1:9: the connection was refused (nothing listens there) (ECONNREFUSED)',
  'the HTTP target at http://127.0.0.1:9 did not answer within 10 s (UND_ERR_HEADERS_TIMEOUT)',
  'could not connect to the HTTP target at http://127.0.0.1:9 within the connect timeout (UND_ERR_CONNECT_TIMEOUT)',
  'desktop flow f091ffab-58bb-4630-a115-659453d56f59 was not found in the Power Automate environment (or the app user cannot see it)',
  'Microsoft Entra did not give a token for the Power Automate environment: token endpoint https://login.microsoftonline.com/acme/oauth2/v2.0/token answered 401: invalid_client: AADSTS7000215: неверный секрет клиента',
  'Power Automate is throttling desktop flow runs on this connection (70 a minute)',
  'Power Automate refused the run: the app user lacks a privilege in the environment (нет привилегии prvReadworkflow)',
  'Power Automate answered 400 to the run: подключение не найдено', 'could not reach Power Automate at https://org.crm4.dynamics.com: the connection was reset (ECONNRESET)',
  'Power Automate at https://org.crm4.dynamics.com did not answer within 10 s (UND_ERR_HEADERS_TIMEOUT)',
  'Microsoft Entra did not give a token for the Power Automate environment: token endpoint https://login.microsoftonline.com/acme/oauth2/v2.0/token could not be reached: ECONNREFUSED', 'robot "Отчёт" names no desktop flow (powerAutomate.flowId)',
  'bot 4217 was not found in the Control Room\'s public workspace (or mailrun-bot cannot see it)',
  'the Control Room refused the sign-in of mailrun-bot (401): неверные учётные данные', 'the Control Room refused the sign-in of mailrun-bot (503)',
  'the Control Room is throttling requests', 'the Control Room refused the deployment: the user lacks a permission (нет права запуска)',
  'the Control Room answered 400 to the deployment: пул не найден', 'the Control Room answered 500 to the activity look-up',
  'the Control Room answered the deployment without a deploymentId', 'the Control Room did not stop the run: выполнение не найдено',
  'could not reach the Control Room at https://acme.my.automationanywhere.digital: the connection was reset (ECONNRESET)',
  'could not connect to the Control Room at https://acme.my.automationanywhere.digital within the connect timeout (UND_ERR_CONNECT_TIMEOUT)',
  'the Control Room at https://acme.my.automationanywhere.digital did not answer within 10 s (UND_ERR_HEADERS_TIMEOUT)',
  'robot "Отчёт" names no bot (automationAnywhere.fileId)', 'robot "Отчёт" names no work queue (automationAnywhere.queueId)',
  'work queue 5 was not found in the Control Room (or mailrun-bot cannot see it)',
  'the Control Room answered 400 to the work items: атрибут не определён в модели', 'the Control Room answered 502 to the work item look-up'
]

const replies: Array<[string, ReplyContent]> = [
  ...reasons.map((reason): [string, ReplyContent] => [`failed: ${reason}`, { kind: 'failed', robot: 'Отчёт', reason, retrying: false }]),
  ...reasons.map((reason): [string, ReplyContent] => [`stop failed: ${reason}`, { kind: 'cancel', result: { outcome: 'stop_failed', robot: 'Отчёт', jobId: 42, reason } }]),
  ['status with failures', { kind: 'status', report: { launches: reasons.map((summary) => line('failed', { summary })) } }],
  ['launched', { kind: 'launched', robot: 'Отчёт', jobId: 42, queue: null, plan }],
  ['launched to a queue', { kind: 'launched', robot: 'Отчёт', jobId: null, queue: 'Счета', plan }],
  ['rows', { kind: 'launched', robot: 'Отчёт', jobId: null, queue: 'Счета', plan, rows: { added: 3, skipped: { rows: 2, problems: someProblems.slice(-8) }, refused: { rows: 1, problems: [problem('row_refused', { row: 4, code: '1016' })] } } }],
  ['rejected', { kind: 'rejected', robot: 'Отчёт', problems: someProblems, catalogue: [robot], ignored: ['Анна'] }],
  ['unknown robot', { kind: 'rejected', robot: null, problems: [problem('no_such_robot', { robot: 'Отчт' })], catalogue: [robot] }],
  ['not allowed', { kind: 'not_allowed', robot: 'Отчёт', contact: 'rpa@acme.example' }],
  ['not allowed, no contact', { kind: 'not_allowed', robot: 'Отчёт', contact: null }],
  ['failed', { kind: 'failed', robot: 'Отчёт', reason: 'процесс не найден', retrying: false }],
  ['retrying', { kind: 'failed', robot: 'Отчёт', reason: 'процесс не найден', retrying: true }],
  ...(['completed', 'faulted', 'stopped'] as const).flatMap((state) => [1, 135, 7322].map((runSeconds): [string, ReplyContent] =>
    [`finished ${state} in ${runSeconds} s`, { kind: 'finished', robot: 'Отчёт', state, jobId: 42, runSeconds, info: 'селектор не найден', outputs: { итого: 7 } }])),
  ['help', { kind: 'help', catalogue: [robot] }],
  ['help, no robots', { kind: 'help', catalogue: [] }],
  ['status, recent', { kind: 'status', report: { launches: ['pending', 'launching', 'launched', 'completed', 'faulted', 'stopped', 'failed', 'retrying'].map((s) => line(s, { by: 'Борис', finishedAt: '2026-12-06T10:05:00Z' })) } }],
  ['status, one with history', { kind: 'status', report: { launches: [line('launched')], history, ref: '42' } }],
  ['status, none', { kind: 'status', report: { launches: [] } }],
  ['status, not found', { kind: 'status', report: { launches: [], history: null, ref: '99' } }],
  ...cancels.map((result): [string, ReplyContent] => [`cancel ${result.outcome}`, { kind: 'cancel', result }])
]

t.test('every reply kind, rendered for a Russian tenant, has no English phrase', async (t) => {
  for (const [name, content] of replies) {
    const text = composeReply(content, 'ru', 'Отчёт').text
    t.equal(englishIn(text), null, name)
  }
})

t.test('the same replies for an English tenant carry no Russian words but the values given', async (t) => {
  for (const [name, content] of replies) {
    const text = composeReply(content, 'en', 'Отчёт').text
    // Values are Russian here: remove every one of them, then nothing Cyrillic may remain.
    const stripped = text.replace(/«[^»]*»|"[^"]*"|[\p{Script=Cyrillic}]+(?=[\s(:=,.)—-]|$)/gu, (m) => /[\p{Script=Cyrillic}]/u.test(m) ? '' : m)
    t.notMatch(stripped, /(?:Строка|Робот|запущен|Ошибка)/u, name)
  }
})

t.test('a reason in words mailrun does not know is quoted as it came, not passed off as Russian', async (t) => {
  t.match(composeReply({ kind: 'failed', robot: 'Отчёт', reason: 'socket hang up', retrying: true }, 'ru', 'Отчёт').text, /Причина: «socket hang up»\./)
})

t.test('the check itself finds an English sentence left in a Russian reply', async (t) => {
  t.not(englishIn('Строка 1 «vendr = X»: The robot "Invoice Check" has no input "vendr"'), null)
  t.not(englishIn('История:\n  2026-12-06 10:00 UTC  ждёт запуска — command accepted'), null)
  t.equal(englishIn('Задание в Orchestrator: 42 · файл CSV · пишите yes или no'), null)
})
