import fc from 'fast-check'
import t from 'tap'
import { isHelpRequest, parseCommandBody, renderCommand, robotNameFromSubject } from '../../src/commands/command-grammar.js'

interface Expected {
  args?: Record<string, string>
  calls?: Array<[string, Record<string, string>?]>
  problems?: Array<[number, RegExp]>
}

const cases: Array<[string, string, Expected]> = [
  ['the design example', 'period = 2022-05\nExtractData: region = North, currency = RUB\nBuildReport\nSendReport: to = "finance@example.com, boss@example.com"\n-- \nAnna',
    { args: { period: '2022-05' }, calls: [['ExtractData', { region: 'North', currency: 'RUB' }], ['BuildReport'], ['SendReport', { to: 'finance@example.com, boss@example.com' }]] }],
  ['an empty body', '', {}],
  ['only blank lines', '\n\n   \n\t\n', {}],
  ['a single function without inputs', 'BuildReport', { calls: [['BuildReport']] }],
  ['a function with a colon and nothing after', 'BuildReport:', { calls: [['BuildReport']] }],
  ['a single argument', 'period = 2022-05', { args: { period: '2022-05' } }],
  ['no spaces around =', 'period=2022-05', { args: { period: '2022-05' } }],
  ['extra spaces everywhere', '   period    =    2022-05   ', { args: { period: '2022-05' } }],
  ['bare value with spaces', 'region = North America', { args: { region: 'North America' } }],
  ['argument value with a colon', 'url = https://example.com/a?b=c', { args: { url: 'https://example.com/a?b=c' } }],
  ['argument value with commas', 'recipients = a@x.com, b@x.com', { args: { recipients: 'a@x.com, b@x.com' } }],
  ['quoted argument value', 'title = "Q1: revenue = profit"', { args: { title: 'Q1: revenue = profit' } }],
  ['escaped quote and backslash', 'path = "C:\\\\Reports\\\\\\"Q1\\""', { args: { path: 'C:\\Reports\\"Q1"' } }],
  ['empty quoted value', 'note = ""', { args: { note: '' } }],
  ['function inputs, quoted with commas', 'Send: to = "a@x.com, b@x.com", subject = "Hi, all"', { calls: [['Send', { to: 'a@x.com, b@x.com', subject: 'Hi, all' }]] }],
  ['function inputs without spaces', 'Extract:region=North,currency=RUB', { calls: [['Extract', { region: 'North', currency: 'RUB' }]] }],
  ['functions keep their order', 'C\nA\nB', { calls: [['C'], ['A'], ['B']] }],
  ['the same function twice is two runs', 'Step\nStep', { calls: [['Step'], ['Step']] }],
  ['comment lines are skipped', '# monthly run\nperiod = 2022-05\n  # indented comment\nBuildReport', { args: { period: '2022-05' }, calls: [['BuildReport']] }],
  ['a hash inside a value is kept', 'tag = #42', { args: { tag: '#42' } }],
  ['Cyrillic names and values', 'период = 2022-05\nВыгрузка: регион = Север, валюта = RUB', { args: { период: '2022-05' }, calls: [['Выгрузка', { регион: 'Север', валюта: 'RUB' }]] }],
  ['Cyrillic quoted value', 'комментарий = "Отчёт: итоги, квартал"', { args: { комментарий: 'Отчёт: итоги, квартал' } }],
  ['names with dots and underscores', 'in_Period.Start = 2022-01\nReport.Build_All', { args: { 'in_Period.Start': '2022-01' }, calls: [['Report.Build_All']] }],
  ['digits in names', 'Step2: x1 = 5', { calls: [['Step2', { x1: '5' }]] }],
  ['Windows line endings', 'period = 2022-05\r\nBuildReport\r\n', { args: { period: '2022-05' }, calls: [['BuildReport']] }],
  ['non-breaking spaces from rich editors', 'period\u00a0=\u00a02022-05', { args: { period: '2022-05' } }],
  ['signature delimiter with trailing space', 'BuildReport\n-- \nAnna Petrova\nperiod = 1', { calls: [['BuildReport']] }],
  ['signature delimiter without trailing space', 'BuildReport\n--\nAnna', { calls: [['BuildReport']] }],
  ['a quoted reply stops reading', 'BuildReport\n> SendReport: to = x', { calls: [['BuildReport']] }],
  ['an On … wrote: header stops reading', 'BuildReport\n\nOn Mon, 1 May 2023 at 10:00, Robot <r@x.com> wrote:\n> Unknown', { calls: [['BuildReport']] }],
  ['a folded Gmail reply header stops reading', 'BuildReport\nOn Mon, 1 May 2023 at 10:00 Robot <r@x.com>\nwrote:\nSendReport', { calls: [['BuildReport']] }],
  ['a Russian reply header stops reading', 'BuildReport\n1 мая 2023 г., в 10:00, Робот <r@x.com> пишет:\nSendReport', { calls: [['BuildReport']] }],
  ['an Outlook original message stops reading', 'BuildReport\n-----Original Message-----\nFrom: x', { calls: [['BuildReport']] }],
  ['an Outlook separator line stops reading', 'BuildReport\n________________________________\nFrom: Robot', { calls: [['BuildReport']] }],
  ['a name with a space is refused', 'Build Report', { problems: [[1, /"Build Report" is not a valid function name/]] }],
  ['an argument name with a space is refused', 'report period = 2022', { problems: [[1, /"report period" is not a valid input name/]] }],
  ['an unclosed quote', 'title = "Q1 report', { problems: [[1, /quoted value is not closed/]] }],
  ['text after a closing quote', 'title = "Q1" report', { problems: [[1, /after the quoted value of "title" only the end of the line/]] }],
  ['a missing value', 'period =', { problems: [[1, /"period" has no value/]] }],
  ['a function input without a value', 'Extract: region', { problems: [[1, /"region" needs a value/]] }],
  ['a trailing comma', 'Extract: region = North,', { problems: [[1, /ends with a comma/]] }],
  ['a repeated argument', 'period = 1\nperiod = 2', { args: { period: '1' }, problems: [[2, /the input "period" is given twice \(also on line 1\)/]] }],
  ['a repeated function input', 'Extract: a = 1, a = 2', { problems: [[1, /"a" is given twice for Extract/]] }],
  ['a line starting with a quote', '"hello" = x', { problems: [[1, /starts with a value/]] }],
  ['a stray quote in a bare value', 'title = Q1 "report"', { problems: [[1, /stray "/]] }],
  ['problems keep the right line numbers and do not stop reading', 'ok = 1\n\nbad line here\nBuildReport', { args: { ok: '1' }, calls: [['BuildReport']], problems: [[3, /not a valid function name/]] }],
  ['a missing name before =', ' = 5', { problems: [[1, /name is missing/]] }]
]

t.test(`the grammar reads ${cases.length} kinds of body as the design says`, async (t) => {
  t.ok(cases.length >= 40)
  for (const [name, body, expected] of cases) {
    const parsed = parseCommandBody(body)
    const args = Object.fromEntries(parsed.arguments.map((a) => [a.name, a.value]))
    const calls = parsed.calls.map((c) => [c.name, Object.fromEntries(c.args.map((a) => [a.name, a.value]))])
    t.same(args, expected.args ?? {}, `${name}: arguments`)
    t.same(calls, (expected.calls ?? []).map(([n, a]) => [n, a ?? {}]), `${name}: calls`)
    t.equal(parsed.problems.length, (expected.problems ?? []).length, `${name}: number of problems`)
    for (const [i, [line, message]] of (expected.problems ?? []).entries()) {
      t.equal(parsed.problems[i]?.line, line, `${name}: problem line`)
      t.match(parsed.problems[i]?.message, message, `${name}: problem message`)
    }
  }
})

t.test('problems quote the offending text', async (t) => {
  const parsed = parseCommandBody('BuildReport\n  Send Report: to = x  ')
  t.same(parsed.problems, [{ line: 2, text: 'Send Report: to = x', kind: 'bad_name', params: { name: 'Send Report', what: 'function' }, message: '"Send Report" is not a valid function name: names are letters, digits, _ and . without spaces' }])
})

const subjects: Array<[string, string]> = [
  ['MonthlyReport', 'MonthlyReport'],
  ['  Monthly   Report  ', 'Monthly Report'],
  ['Re: MonthlyReport', 'MonthlyReport'],
  ['RE: Fwd: FW: MonthlyReport', 'MonthlyReport'],
  ['AW: WG: Monthly Report', 'Monthly Report'],
  ['Отв: Пересл: Ежемесячный отчёт', 'Ежемесячный отчёт'],
  ['отв: ОТВ: Отчёт', 'Отчёт'],
  ['Re[2]: Report', 'Report'],
  ['НА: RE: Ежемесячный отчёт', 'Ежемесячный отчёт'],
  ['Re: Re[2]: НА: Report', 'Report'],
  ['Report: Q1', 'Report: Q1']
]

t.test('the subject names the robot, reply and forward prefixes removed', async (t) => {
  for (const [subject, robot] of subjects) t.equal(robotNameFromSubject(subject), robot, subject)
})

t.test('help, ? and their Russian words ask for the catalogue', async (t) => {
  for (const word of ['help', 'HELP', '?', 'Помощь', 'справка']) t.ok(isHelpRequest(robotNameFromSubject(`Re: ${word}`)), word)
  t.notOk(isHelpRequest('helpdesk'))
})

const name = fc.stringMatching(/^[A-Za-zА-Яа-я_][A-Za-zА-Яа-я0-9_.]{0,11}$/)
const value = fc.string({ minLength: 0, maxLength: 30, unit: fc.constantFrom(...'abcXYZ019 ,:=#"\\-_.@/éжЖ'.split('')) })
const uniqueAssignments = fc.uniqueArray(fc.record({ name, value }), { selector: (a) => a.name, maxLength: 5 })

t.test('property: any plan rendered to text parses back to itself', async (t) => {
  fc.assert(fc.property(uniqueAssignments, fc.array(fc.record({ name, args: uniqueAssignments }), { maxLength: 6 }), (args, calls) => {
    const parsed = parseCommandBody(renderCommand({ arguments: args, calls }))
    if (parsed.problems.length > 0) return false
    const same = (a: Array<{ name: string, value: string }>, b: Array<{ name: string, value: string }>): boolean =>
      a.length === b.length && a.every((x, i) => x.name === b[i]?.name && x.value === b[i]?.value)
    return same(parsed.arguments, args) && parsed.calls.length === calls.length &&
      parsed.calls.every((c, i) => c.name === calls[i]?.name && same(c.args, calls[i]?.args ?? []))
  }), { numRuns: 500 })
  t.pass('500 random plans round-tripped')
})
