import { parse } from 'csv-parse/sync'
import { errors } from '../errors.js'
import { detectDelimiter } from '../spreadsheets/read-csv.js'

// A pasted or uploaded list of senders: "name,email" per line, an optional header row, commas or
// semicolons (spreadsheets in Russian locales write semicolons), quoted fields as spreadsheets
// write them. Rows are numbered as the user sees them in their file.

export const MAX_ROWS = 5000

export function sendersFromCsv (text: string): Array<{ row: number, fullName: string, email: string }> {
  const delimiter = detectDelimiter(text)
  let records: string[][]
  try {
    records = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: false, trim: true, bom: true }) as string[][]
  } catch (error) {
    throw new errors.BadRequest(`the list is not readable CSV: ${(error as Error).message}`)
  }
  const rows = records.map((cells, i) => ({ row: i + 1, fullName: cells[0] ?? '', email: cells[1] ?? '' }))
    .filter((r) => r.fullName !== '' || r.email !== '')
  const header = rows[0]
  if (header !== undefined && /^(full\s*)?name|имя|фио$/i.test(header.fullName) && /e-?mail|почта|адрес/i.test(header.email)) rows.shift()
  if (rows.length > MAX_ROWS) throw new errors.BadRequest(`the list has ${rows.length} rows; import at most ${MAX_ROWS} at a time`)
  return rows
}
