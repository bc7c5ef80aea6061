import fc from 'fast-check'
import t from 'tap'
import { MAX_ROWS, sendersFromCsv } from '../../src/console/senders-csv.js'

t.test('rows as spreadsheets write them', async (t) => {
  t.same(sendersFromCsv('Name,Email\r\nAnna Petrova,anna@acme.example\r\n"Orlov, Boris",boris@acme.example\r\n\r\n'), [
    { row: 2, fullName: 'Anna Petrova', email: 'anna@acme.example' },
    { row: 3, fullName: 'Orlov, Boris', email: 'boris@acme.example' }
  ])
  t.same(sendersFromCsv('ФИО;Почта\nИванова Ольга;olga@acme.example'), [{ row: 2, fullName: 'Иванова Ольга', email: 'olga@acme.example' }], 'semicolons and a Russian header')
  t.same(sendersFromCsv('\ufeffAnna,anna@acme.example'), [{ row: 1, fullName: 'Anna', email: 'anna@acme.example' }], 'a BOM and no header')
  t.same(sendersFromCsv('only a name'), [{ row: 1, fullName: 'only a name', email: '' }], 'a short row is kept for the per-row check to name')
})

t.test('unreadable or oversized input is a 400 that says why', async (t) => {
  t.throws(() => sendersFromCsv('"unterminated,anna@x'), { statusCode: 400, message: /^the list is not readable CSV: a quote is not closed \(line 1\): put a closing " after the value/ }, "what to fix, not the parser's words")
  t.throws(() => sendersFromCsv('a,b@c.d\n'.repeat(MAX_ROWS + 1)), { statusCode: 400, message: /at most 5000/ })
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
    try { sendersFromCsv(text) } catch (error) { if ((error as { statusCode?: number }).statusCode !== 400) throw error }
  }), { numRuns: 500 })
})
