import { problem } from '../commands/problem-text.js'
import { decodeText } from './decode-text.js'
import { readCsv } from './read-csv.js'
import { readXlsx } from './read-xlsx.js'
import { UnreadableSpreadsheet, type Table, type TableLimits } from './table.js'

export interface SpreadsheetFile { filename: string | null, contentType: string, charset: string | null, content: Buffer }

const XLSX_TYPES = new Set(['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'])
const CSV_TYPES = new Set(['text/csv', 'text/comma-separated-values', 'application/csv', 'text/x-csv', 'application/x-csv', 'text/tab-separated-values'])

/** Which kind of table a file is, by its name first (mail programs often send application/octet-stream), then its type. */
export function spreadsheetKind (file: { filename: string | null, contentType: string }): 'csv' | 'xlsx' | 'xls' | null {
  const extension = /\.([a-z0-9]+)$/i.exec(file.filename ?? '')?.[1]?.toLowerCase()
  if (extension === 'csv' || extension === 'tsv') return 'csv'
  if (extension === 'xlsx') return 'xlsx'
  if (extension === 'xls') return 'xls'
  const type = file.contentType.toLowerCase()
  if (CSV_TYPES.has(type)) return 'csv'
  if (XLSX_TYPES.has(type)) return 'xlsx'
  if (type === 'application/vnd.ms-excel') return 'xls'
  return null
}

export async function readSpreadsheet (file: SpreadsheetFile, limits: TableLimits): Promise<Table> {
  const kind = spreadsheetKind(file)
  if (kind === 'csv') return readCsv(decodeText(file.content, file.charset), limits)
  if (kind === 'xlsx') return await readXlsx(file.content, limits)
  if (kind === 'xls') throw new UnreadableSpreadsheet(problem('old_excel', { name: file.filename ?? '' }))
  throw new UnreadableSpreadsheet(problem('not_spreadsheet', { name: file.filename ?? '' }))
}
