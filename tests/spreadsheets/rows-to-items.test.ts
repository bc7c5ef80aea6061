import t from 'tap'
import type { ParameterDeclaration } from '../../src/db/schema.js'
import { rowsToItems } from '../../src/spreadsheets/rows-to-items.js'

const declared: ParameterDeclaration[] = [
  { name: 'Account', type: 'string', required: true },
  { name: 'Amount', type: 'number', required: true },
  { name: 'Due', type: 'date', required: false },
  { name: 'Urgent', type: 'boolean', required: false }
]

t.test('values typed as declared, whatever the program wrote', async (t) => {
  const result = rowsToItems({
    header: ['account', 'AMOUNT', 'Due', 'Urgent'],
    rows: [
      { row: 2, cells: ['A-1', '1 500,5'.replace(' ', ''), '1.12.2026', 'да'] },
      { row: 3, cells: ['A-2', 7, new Date(Date.UTC(2026, 0, 31)), true] },
      { row: 4, cells: [12345, '3', null, 'no'] }
    ]
  }, declared, {})
  t.same(result.problems, [])
  t.same(result.items, [
    { row: 2, content: { Account: 'A-1', Amount: 1500.5, Due: '2026-12-01', Urgent: true } },
    { row: 3, content: { Account: 'A-2', Amount: 7, Due: '2026-01-31', Urgent: true } },
    { row: 4, content: { Account: '12345', Amount: 3, Urgent: false } }
  ], 'names as declared, a number cell in a text column as text, leading zeros of day and month optional')
})

t.test('each problem names its row and column', async (t) => {
  const result = rowsToItems({
    header: ['Account', 'Amount', 'Due', ''],
    rows: [
      { row: 2, cells: ['A-1', 'ten', '2026-13-01', null] },
      { row: 3, cells: ['A-2', 5, 46000, null, 'stray'] },
      { row: 4, cells: ['', 1, null, null] }
    ]
  }, declared, {})
  t.same(result.problems.map((p) => p.message), [
    'row 2, column "Amount": "ten" is not a number (write it like 42, 3.5 or 1 234,56)',
    'row 2, column "Due": "2026-13-01" is not a date (write it like 2024-05-31 or 31.05.2024)',
    'row 3, column "Due": 46000 is not a date; format the column as a date, or write it like 2024-05-31',
    'row 3, column 5: a value beyond the last named column ("stray")',
    'row 4, column "Account" is empty; it is required'
  ])
  t.same(result.invalidRows, [2, 3, 4])
  t.same(result.items, [])
  t.equal(result.headerInvalid, false)
})

t.test('a header that does not fit: told once, rows not judged', async (t) => {
  const result = rowsToItems({ header: ['Account', 'Account', 'Amount', 'Note'], rows: [{ row: 2, cells: ['x', 'y', 'z', 'w'] }] }, declared, { Amount: 5 }, { extraColumns: 'reject' })
  t.same(result.problems.map((p) => p.message), [
    'row 1: the column "Account" appears twice (columns 1 and 2)',
    'row 1: "Amount" is both a column and written in the email; give it in one place',
    'row 1: the robot has no input "Note"; its columns can be: Account (text, required), Amount (a number, required), Due (a date), Urgent (yes or no)'
  ])
  t.equal(result.headerInvalid, true)
})

t.test('a column the robot does not take: left out and named by default (#27); a likely typo when a required column is missing', async (t) => {
  const table = { header: ['Account', 'Amount', 'Комментарий', ''], rows: [{ row: 2, cells: ['A-1', '1 234,56', 'срочно', null] }] }
  const ignored = rowsToItems(table, declared, {})
  t.same(ignored.problems, [])
  t.same(ignored.items, [{ row: 2, content: { Account: 'A-1', Amount: 1234.56 } }])
  t.same(ignored.ignoredColumns, ['Комментарий'])
  const rejected = rowsToItems(table, declared, {}, { extraColumns: 'reject' })
  t.match(rejected.problems, [{ kind: 'no_such_column', params: { title: 'Комментарий' } }])
  const typo = rowsToItems({ header: ['Acount', 'Amount'], rows: [{ row: 2, cells: ['A-1', 5] }] }, declared, {})
  t.same(typo.problems.map((p) => p.kind), ['no_such_column', 'missing_column'], 'the unknown column is named beside the missing one')
})

t.test('text a spreadsheet would run as a formula reaches the queue item with a leading \' ; numbers and dates as typed are untouched (#28)', async (t) => {
  const table = {
    header: ['Account', 'Amount', 'Due', 'Note'],
    rows: [
      { row: 2, cells: ['=HYPERLINK("http://evil.example","x")', '-5', new Date(Date.UTC(2026, 0, 2)), '+7 495 123-45-67'] },
      { row: 3, cells: ['@SUM(A1)', -5, '02.01.2026', '\t=1+1'] },
      { row: 4, cells: ['\r-2', '1 234,56', null, 'plain'] }
    ]
  }
  const withNote = [...declared, { name: 'Note', type: 'string' as const, required: false }]
  const escaped = rowsToItems(table, withNote, {})
  t.same(escaped.problems, [])
  t.same(escaped.items.map((i) => i.content), [
    { Account: '\'=HYPERLINK("http://evil.example","x")', Amount: -5, Due: '2026-01-02', Note: '\'+7 495 123-45-67' },
    { Account: '\'@SUM(A1)', Amount: -5, Due: '2026-01-02', Note: '\'=1+1' },
    { Account: '\'-2', Amount: 1234.56, Note: 'plain' }
  ])
  const asIs = rowsToItems(table, withNote, {}, { escapeFormulas: false })
  t.equal(asIs.items[0]?.content.Account, '=HYPERLINK("http://evil.example","x")', 'the robot may take them as written')
  t.equal(rowsToItems({ header: ['Anything'], rows: [{ row: 2, cells: ['=1+1'] }] }, [], {}).items[0]?.content.Anything, '\'=1+1', 'undeclared columns are text')
})

t.test('a robot that declares nothing takes every column as it comes', async (t) => {
  const result = rowsToItems({ header: ['Anything', 'Else'], rows: [{ row: 2, cells: ['text', 3.5] }] }, [], {})
  t.same(result.items, [{ row: 2, content: { Anything: 'text', Else: 3.5 } }])
})
