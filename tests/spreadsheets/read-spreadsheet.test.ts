import fc from 'fast-check'
import { strToU8, zipSync } from 'fflate'
import iconv from 'iconv-lite'
import t from 'tap'
import writeXlsxFile from 'write-excel-file/node'
import { decodeText } from '../../src/spreadsheets/decode-text.js'
import { inflatedSize } from '../../src/spreadsheets/inflated-size.js'
import { readCsv } from '../../src/spreadsheets/read-csv.js'
import { readSpreadsheet as readOrNull, type SpreadsheetFile } from '../../src/spreadsheets/read-spreadsheet.js'
import { UnreadableSpreadsheet, type Table, type TableLimits } from '../../src/spreadsheets/table.js'

/** A file that must be a table. */
async function readSpreadsheet (file: SpreadsheetFile, limits: TableLimits): Promise<Table> {
  const table = await readOrNull(file, limits)
  if (table === null) throw new Error(`${file.filename ?? ''} was read as a note, not a table`)
  return table
}

const limits = { maxRows: 1000, maxUnpackedBytes: 5 * 1024 * 1024 }
const csvFile = (content: Buffer, filename = 'accounts.csv', charset: string | null = null) => ({ filename, contentType: 'text/csv', charset, content })

t.test('CSV in UTF-8 with a byte order mark, commas', async (t) => {
  const table = await readSpreadsheet(csvFile(Buffer.from('\uFEFFAccount,Amount\r\nACC-1,10.5\r\nACC-2,20\r\n')), limits)
  t.same(table.header, ['Account', 'Amount'])
  t.same(table.rows, [{ row: 2, cells: ['ACC-1', '10.5'] }, { row: 3, cells: ['ACC-2', '20'] }])
})

t.test('CSV in windows-1251 with semicolons and a quoted line break, as Excel in Russian saves it', async (t) => {
  const text = 'Счёт;Сумма;Комментарий\r\nСЧ-1;10,5;"первая строка\r\nвторая; строка"\r\n\r\nСЧ-2;20;Иванов\r\n'
  const table = await readSpreadsheet(csvFile(iconv.encode(text, 'windows-1251')), limits)
  t.same(table.header, ['Счёт', 'Сумма', 'Комментарий'])
  t.same(table.rows, [
    { row: 2, cells: ['СЧ-1', '10,5', 'первая строка\r\nвторая; строка'] },
    // The blank line is row 3 in the file: numbering follows the file, not the kept rows.
    { row: 4, cells: ['СЧ-2', '20', 'Иванов'] }
  ])
})

t.test('windows-1252 is told from windows-1251 by the bytes', async (t) => {
  t.equal(decodeText(iconv.encode('Name;City\nMüller;Köln\nCafé;Genève\n', 'windows-1252'), null), 'Name;City\nMüller;Köln\nCafé;Genève\n')
  t.equal(decodeText(iconv.encode('Имя;Город\nИванов;Москва\n', 'windows-1251'), null), 'Имя;Город\nИванов;Москва\n')
  t.equal(decodeText(iconv.encode('Имя;Город\n', 'koi8-r'), 'koi8-r'), 'Имя;Город\n', 'a charset named by the attachment wins')
  t.equal(decodeText(iconv.encode('Имя;Город\n', 'windows-1251'), 'us-ascii'), 'Имя;Город\n', 'a label the bytes prove wrong is not believed')
})

t.test('Excel\'s "Unicode text" (.txt, UTF-16 with tabs) is read like a CSV; a .txt without tabs is a note, not a table (#27)', async (t) => {
  const content = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('Account\tAmount\r\nACC-1\t1 234,56\r\n', 'utf-16le')])
  const text = await readSpreadsheet({ filename: 'export.txt', contentType: 'text/plain', charset: null, content }, limits)
  t.same(text.header, ['Account', 'Amount'])
  t.same(text.rows, [{ row: 2, cells: ['ACC-1', '1 234,56'] }])
  t.equal(await readOrNull({ filename: 'note.txt', contentType: 'text/plain', charset: null, content: Buffer.from('Invoices for December, see the CSV.\r\n') }, limits), null)
  const tsv = await readSpreadsheet(csvFile(content, 'export.tsv'), limits)
  t.same(tsv.rows, [{ row: 2, cells: ['ACC-1', '1 234,56'] }])
})

t.test('an XLSX workbook: its first sheet, with typed cells', async (t) => {
  const content = await writeXlsxFile([
    [{ value: 'Account' }, { value: 'Amount' }, { value: 'Due' }, { value: 'Urgent' }],
    [{ value: 'ACC-1' }, { value: 10.5, type: Number }, { value: new Date(Date.UTC(2026, 11, 31)), type: Date, format: 'yyyy-mm-dd' }, { value: true, type: Boolean }],
    [null, null, null, null],
    [{ value: 'ACC-2' }, { value: 20, type: Number }, null, { value: false, type: Boolean }]
  ]).toBuffer()
  const table = await readSpreadsheet({ filename: 'accounts.xlsx', contentType: 'application/octet-stream', charset: null, content }, limits)
  t.same(table.header, ['Account', 'Amount', 'Due', 'Urgent'])
  t.equal(table.rows.length, 2)
  t.same(table.rows[0], { row: 2, cells: ['ACC-1', 10.5, new Date(Date.UTC(2026, 11, 31)), true] })
  t.equal(table.rows[1]?.row, 4, 'the blank row keeps its number')
})

t.test('files that are not readable tables say what to do', async (t) => {
  const xls = await readSpreadsheet({ filename: 'old.xls', contentType: 'application/vnd.ms-excel', charset: null, content: Buffer.from('whatever') }, limits).catch((e: Error) => e)
  t.match(xls, { message: /Excel 97–2003.*save it as \.xlsx or \.csv/ })
  const broken = await readSpreadsheet({ filename: 'broken.xlsx', contentType: 'application/octet-stream', charset: null, content: Buffer.from('PK not really a zip') }, limits).catch((e: Error) => e)
  t.ok(broken instanceof UnreadableSpreadsheet)
  t.match(broken, { message: /not a readable XLSX workbook/ })
  const empty = await readSpreadsheet(csvFile(Buffer.from('\r\n\r\n')), limits).catch((e: Error) => e)
  t.match(empty, { message: /empty: its first row must name the fields/ })
})

t.test('a workbook that unpacks to more than the limit is refused before it is unpacked', async (t) => {
  // 16 MB of zeros compress to about 16 KB: a small attachment that would fill memory.
  const bomb = Buffer.from(zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'xl/worksheets/sheet1.xml': new Uint8Array(16 * 1024 * 1024) }, { level: 9 }))
  t.ok(bomb.length < 1024 * 1024)
  const error = await readSpreadsheet({ filename: 'bomb.xlsx', contentType: 'application/octet-stream', charset: null, content: bomb }, limits).catch((e: Error) => e)
  t.ok(error instanceof UnreadableSpreadsheet)
  t.match(error, { message: /unpacks to 17 MB, more than the 5 MB/, problem: { kind: 'workbook_too_large', params: { mb: 17, maxMb: 5 } } })
})

t.test('more rows than the limit: refused while reading, with the number to stay under', async (t) => {
  const text = `Account\n${Array.from({ length: 1001 }, (_, i) => `ACC-${i}`).join('\n')}\n`
  t.throws(() => readCsv(text, limits), { message: /more than 1000 rows; split it into several emails of at most 1000 rows each/ })
  t.equal(readCsv(`Account\n${Array.from({ length: 1000 }, (_, i) => `ACC-${i}`).join('\n')}\n`, limits).rows.length, 1000)
})

t.test('any text: a table with increasing row numbers, or an UnreadableSpreadsheet — nothing else', async (t) => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'б', ',', ';', '\t', '"', '\r', '\n', ' ', '1', '\uFEFF'), maxLength: 200 }), (text) => {
    try {
      const table = readCsv(text, { maxRows: 20, maxUnpackedBytes: 1 })
      let last = 1
      for (const { row, cells } of table.rows) {
        if (row <= last || cells.every((c) => c === '')) return false
        last = row
      }
      return true
    } catch (error) {
      return error instanceof UnreadableSpreadsheet
    }
  }), { numRuns: 2000 })
  t.pass('held for 2000 generated files')
})

/** The ZIP with every entry's unpacked size rewritten to `size`, in the central directory and in the local headers: a directory that lies. */
function lyingAboutSize (zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip)
  const end = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  const entries = out.readUInt16LE(end + 10)
  let at = out.readUInt32LE(end + 16)
  for (let i = 0; i < entries; i++) {
    out.writeUInt32LE(size, at + 24)
    out.writeUInt32LE(size, out.readUInt32LE(at + 42) + 22)
    at += 46 + out.readUInt16LE(at + 28) + out.readUInt16LE(at + 30) + out.readUInt16LE(at + 32)
  }
  return out
}

t.test('a workbook whose directory lies about its size is refused once what it really unpacks to passes the limit, and no further is inflated (#28)', async (t) => {
  const bomb = lyingAboutSize(Buffer.from(zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'xl/worksheets/sheet1.xml': new Uint8Array(100 * 1024 * 1024) }, { level: 9 })), 1000)
  t.ok(bomb.length < 200 * 1024, `a ${Math.round(bomb.length / 1024)} KB attachment`)
  let turns = 0
  let spinning = true
  const spin = (): void => { if (spinning) { turns++; setImmediate(spin) } }
  spin()
  const error = await readSpreadsheet({ filename: 'bomb.xlsx', contentType: 'application/octet-stream', charset: null, content: bomb }, limits).catch((e: Error) => e)
  spinning = false
  t.match(error, { problem: { kind: 'workbook_too_large', params: { maxMb: 5 } } })
  t.ok(turns > 1, `the event loop turned ${turns} times while it was checked`)
  const counted = await inflatedSize(bomb, limits.maxUnpackedBytes)
  t.equal(counted.over, true)
  t.ok(counted.bytes < limits.maxUnpackedBytes + 8 * 1024 * 1024, `inflating stopped after ${Math.round(counted.bytes / 1024 / 1024)} MB of 100`)
  const honest = await inflatedSize(Buffer.from(zipSync({ 'a.xml': strToU8('<a/>'.repeat(1000)) })), limits.maxUnpackedBytes)
  t.same(honest, { over: false, bytes: 4000 })
})
