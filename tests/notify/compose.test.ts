import t from 'tap'
import { composeReply, type Locale, type ReplyContent } from '../../src/notify/compose-reply.js'

const robot = { name: 'Отчёт <b>', description: 'Месячный <script>alert(1)</script>', parameters: [{ name: 'period', type: 'date' as const, required: true }], functions: [{ name: 'Build', parameters: [] }] }
const plan = { arguments: { period: '2026-10-01' }, functions: [{ name: 'Build', args: {} }] }

const kinds: Array<[string, ReplyContent, Record<Locale, RegExp>]> = [
  ['launched', { kind: 'launched', robot: robot.name, jobId: 42, queue: null, plan }, { en: /has been started\.\nOrchestrator job: 42/, ru: /запущен\.\nЗадание в Orchestrator: 42/ }],
  ['launched to a queue', { kind: 'launched', robot: robot.name, jobId: null, queue: 'Invoices', plan }, { en: /added to queue "Invoices"/, ru: /добавлен в очередь «Invoices»/ }],
  ['rejected', { kind: 'rejected', robot: robot.name, problems: [{ line: 2, text: 'Biuld', message: 'unknown function' }], catalogue: [robot] }, { en: /Line 2 «Biuld»: unknown function/, ru: /Строка 2 «Biuld»: unknown function/ }],
  ['unknown robot', { kind: 'rejected', robot: null, problems: [{ message: 'no such robot' }], catalogue: [robot] }, { en: /Robots you may run:/, ru: /Роботы, которых вы можете запускать:/ }],
  ['not allowed', { kind: 'not_allowed', robot: robot.name, contact: 'rpa@acme.example' }, { en: /not allowed to run robot[\s\S]*ask rpa@acme\.example/, ru: /нет права запускать робота[\s\S]*напишите rpa@acme\.example/ }],
  ['failed, no retry', { kind: 'failed', robot: robot.name, reason: 'process not found', retrying: false }, { en: /could not be started\.\nReason: process not found\.\n\nmailrun will not retry/, ru: /не удалось запустить\.\nПричина: «process not found»\.\n\nПовторных попыток не будет/ }],
  ['failed, retrying', { kind: 'failed', robot: robot.name, reason: 'throttled', retrying: true }, { en: /will keep trying on its own/, ru: /продолжит попытки сам/ }],
  ['finished', { kind: 'finished', robot: robot.name, state: 'completed', jobId: 42, runSeconds: 135, info: null, outputs: { total: 7 } }, { en: /finished successfully\.\nOrchestrator job: 42\nRun time: 2 min 15 s\n\nResults:\n {2}total: 7/, ru: /успешно завершил работу\.\nЗадание в Orchestrator: 42\nВремя работы: 2 мин 15 с\n\nРезультаты:\n {2}total: 7/ }],
  ['faulted', { kind: 'finished', robot: robot.name, state: 'faulted', jobId: 42, runSeconds: 3, info: 'Selector not found', outputs: null }, { en: /failed\.[\s\S]*What went wrong: Selector not found/, ru: /завершился с ошибкой\.[\s\S]*Что пошло не так: Selector not found/ }],
  ['stopped', { kind: 'finished', robot: robot.name, state: 'stopped', jobId: 42, runSeconds: null, info: null, outputs: null }, { en: /was stopped\./, ru: /был остановлен\./ }],
  ['help', { kind: 'help', catalogue: [robot] }, { en: /Robots you may run by email\.[\s\S]*Example email for "Отчёт <b>":\n {4}Subject: Отчёт <b>\n {4}period = 2026-05-31\n {4}Build/, ru: /Роботы, которых можно запускать письмом\.[\s\S]*Пример письма для «Отчёт <b>»:/ }]
]

t.test('every reply kind reads right in English and in Russian, and its HTML escapes every value', async (t) => {
  for (const [name, content, expected] of kinds) {
    for (const locale of ['en', 'ru'] as const) {
      const reply = composeReply(content, locale, 'Отчёт <b>')
      t.match(reply.text, expected[locale], `${name} (${locale})`)
      t.equal(reply.subject, 'Re: Отчёт <b>')
      t.notMatch(reply.html, /<b>|<script>/, `${name} (${locale}): no markup from input in the HTML`)
    }
  }
})

t.test('a reply subject carries one Re: however many prefixes the thread piled up, and never control characters', async (t) => {
  t.equal(composeReply({ kind: 'help', catalogue: [] }, 'en', 'RE: Report').subject, 'Re: Report')
  t.equal(composeReply({ kind: 'help', catalogue: [] }, 'en', 'Re: Re[2]: НА: Fwd: Report').subject, 'Re: Report', 'Outlook in Russian writes НА:')
  t.equal(composeReply({ kind: 'help', catalogue: [] }, 'ru', 'Отв: Re(3): Отчёт').subject, 'Re: Отчёт')
  t.equal(composeReply({ kind: 'help', catalogue: [] }, 'en', 'Report\r\nBcc: x@y.z\u0000').subject, 'Re: Report Bcc: x@y.z')
})

t.test('a spreadsheet reply says how many rows went to which queue, and lists the rows left out, in both languages', async (t) => {
  const content: ReplyContent = {
    kind: 'launched',
    robot: 'Pay Invoices',
    jobId: null,
    queue: 'Invoices',
    plan: { arguments: { Batch: 'December' }, functions: [] },
    rows: { added: 2, skipped: { rows: 1, problems: [{ message: 'row 3, column "Amount": "ten" is not a number (write it like 42 or 3.5)' }] }, refused: { rows: 0, problems: [] } }
  }
  const en = composeReply(content, 'en', 'Pay Invoices').text
  t.match(en, /2 rows were added to queue "Invoices", one queue item each\./)
  t.match(en, /1 row was left out because of these problems; fix them and send those rows again:\n {2}row 3, column "Amount"/)
  t.match(en, /Batch = December/)
  const ru = composeReply(content, 'ru', 'Pay Invoices').text
  t.match(ru, /В очередь «Invoices» добавлено строк: 2 \(по элементу очереди на строку\)\./)
  t.match(ru, /Пропущено строк с ошибками: 1\. Исправьте их и пришлите эти строки ещё раз:/)
})

t.test('a cancelled queue launch says how many items went and how many a robot had taken', async (t) => {
  const content: ReplyContent = { kind: 'cancel', result: { outcome: 'queue_deleted', robot: 'Pay Invoices', deleted: 3, kept: 1 } }
  t.match(composeReply(content, 'en', 'cancel').text, /3 queue items were deleted from robot "Pay Invoices"'s queue; 1 had already been taken up by a robot and stays\./)
  t.match(composeReply(content, 'ru', 'отмена').text, /Из очереди робота «Pay Invoices» удалено элементов: 3; ещё 1 робот уже взял в работу, они остаются\./)
})
