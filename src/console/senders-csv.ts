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
    // csv-parse's words ("Invalid Closing Quote: got …") are a parser's: say what to fix instead.
    const { code, lines } = error as { code?: string, lines?: number }
    const where = lines !== undefined ? ` (line ${lines})` : ''
    const what = code === 'CSV_QUOTE_NOT_CLOSED' || code === 'CSV_INVALID_CLOSING_QUOTE'
      ? `a quote is not closed${where}: put a closing " after the value, or remove the opening one`
      : code === 'CSV_INVALID_OPENING_QUOTE'
        ? `a quote stands inside a value${where}: quote the whole value ("Petrova, Olga") or remove the quote`
        : `check the quotes and separators${where}: a name and an address on each line, separated by a comma or a semicolon`
    throw new errors.BadRequest(`the list is not readable CSV: ${what}`)
  }
  const rows = records.map((cells, i) => ({ row: i + 1, fullName: cells[0] ?? '', email: cells[1] ?? '' }))
    .filter((r) => r.fullName !== '' || r.email !== '')
  const header = rows[0]
  if (header !== undefined && /^(full\s*)?name|имя|фио$/i.test(header.fullName) && /e-?mail|почта|адрес/i.test(header.email)) rows.shift()
  if (rows.length > MAX_ROWS) throw new errors.BadRequest(`the list has ${rows.length} rows; import at most ${MAX_ROWS} at a time`)
  return rows
}
