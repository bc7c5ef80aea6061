import { problem } from '../commands/problem-text.js'
import { decodeText } from './decode-text.js'
import { readCsv } from './read-csv.js'
import { readXlsx } from './read-xlsx.js'
import { UnreadableSpreadsheet, type Table, type TableLimits } from './table.js'

export interface SpreadsheetFile { filename: string | null, contentType: string, charset: string | null, content: Buffer }

const XLSX_TYPES = new Set(['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'])
const CSV_TYPES = new Set(['text/csv', 'text/comma-separated-values', 'application/csv', 'text/x-csv', 'application/x-csv', 'text/tab-separated-values'])

/**
 * Which kind of table a file is, by its name first (mail programs often send application/octet-stream),
 * then its type. A `.txt` may be Excel's "Unicode text" (UTF-16, tab-separated): it is a table when
 * its first line has a tab, and a note otherwise (readSpreadsheet answers null).
 */
export function spreadsheetKind (file: { filename: string | null, contentType: string }): 'csv' | 'text' | 'xlsx' | 'xls' | null {
  const extension = /\.([a-z0-9]+)$/i.exec(file.filename ?? '')?.[1]?.toLowerCase()
  if (extension === 'csv' || extension === 'tsv') return 'csv'
  if (extension === 'txt') return 'text'
  if (extension === 'xlsx') return 'xlsx'
  if (extension === 'xls') return 'xls'
  const type = file.contentType.toLowerCase()
  if (CSV_TYPES.has(type)) return 'csv'
  if (XLSX_TYPES.has(type)) return 'xlsx'
  if (type === 'application/vnd.ms-excel') return 'xls'
  return null
}

/** The file's table; null for a .txt that is a note, not tab-separated values. */
export async function readSpreadsheet (file: SpreadsheetFile, limits: TableLimits): Promise<Table | null> {
  const kind = spreadsheetKind(file)
  if (kind === 'csv') return readCsv(decodeText(file.content, file.charset), limits)
  if (kind === 'text') {
    const text = decodeText(file.content, file.charset)
    const first = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? ''
    return first.includes('\t') ? readCsv(text, limits) : null
  }
  if (kind === 'xlsx') return await readXlsx(file.content, limits)
  if (kind === 'xls') throw new UnreadableSpreadsheet(problem('old_excel', { name: file.filename ?? '' }))
  throw new UnreadableSpreadsheet(problem('not_spreadsheet', { name: file.filename ?? '' }))
}
