import { problem } from '../commands/problem-text.js'
import { parse } from 'csv-parse/sync'
import { isBlankRow, tooManyRows, UnreadableSpreadsheet, type Table, type TableLimits } from './table.js'

// CSV as real users send it: a comma, a semicolon (Excel in Russian and many European locales) or a
// tab ("Unicode text") between fields, quoted fields that hold separators and line breaks, blank
// lines here and there. Rows are numbered as a spreadsheet program numbers them: a quoted line
// break stays inside its row.

/** The separator the header line uses most: `;`, `,` or a tab (`,` when it has none). */
export function detectDelimiter (text: string): ';' | ',' | '\t' {
  const firstLine = text.slice(0, 64 * 1024).split(/\r?\n/, 1)[0] ?? ''
  const count = (d: string): number => firstLine.split(d).length - 1
  const counts: Array<[';' | ',' | '\t', number]> = [[',', count(',')], [';', count(';')], ['\t', count('\t')]]
  return counts.reduce((best, c) => c[1] > best[1] ? c : best)[0]
}

const MAX_FIELD_CHARS = 32_767 // Excel's own limit for one cell

export function readCsv (text: string, limits: TableLimits): Table {
  const records: Array<{ row: number, cells: string[] }> = []
  try {
    parse(text, {
      delimiter: detectDelimiter(text),
      relax_column_count: true,
      relax_quotes: true,
      bom: true,
      skip_empty_lines: false,
      max_record_size: MAX_FIELD_CHARS * 4,
      on_record: (cells: string[], context: { records: number }) => {
        // Kept here rather than returned: the parser's own result is left empty. Counted as they
        // are read, so a huge file stops here instead of being read whole.
        if (isBlankRow(cells)) return null
        if (records.length > limits.maxRows) throw tooManyRows(limits)
        records.push({ row: context.records, cells: cells.map((c) => c.trim()) })
        return null
      }
    })
  } catch (error) {
    if (error instanceof UnreadableSpreadsheet) throw error
    const where = (error as { lines?: number }).lines
    throw new UnreadableSpreadsheet(problem('csv_unreadable', { line: where ?? null, detail: (error as Error).message.replace(/^Invalid \w+: /, '') }))
  }
  const [header, ...rows] = records
  if (header === undefined) throw new UnreadableSpreadsheet(problem('csv_empty'))
  return { header: header.cells, rows }
}
