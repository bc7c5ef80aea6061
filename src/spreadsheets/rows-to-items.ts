import type { ParameterDeclaration, Problem } from '../db/schema.js'
import { asDeclared, convertValue, type ArgumentValue } from '../commands/validate-plan.js'
import { problem, type ValueFault } from '../commands/problem-text.js'
import type { Cell, Table } from './table.js'

// Every data row of a spreadsheet becomes one queue item: the header names the fields, each value
// is checked against the robot's declared parameter of that name and typed as declared (as the
// values written in an email body are). Problems name the row and the column as the sender sees
// them in their program.

export interface QueueRow { row: number, content: Record<string, ArgumentValue> }

export interface RowsResult {
  items: QueueRow[]
  problems: Problem[]
  /** Rows with a problem: with the robot's "skip" policy they are left out, the others added. */
  invalidRows: number[]
  /** The header row itself does not fit the robot: no row can be added. */
  headerInvalid: boolean
  /** Columns the robot does not take, left out (the robot's extraColumns: ignore). */
  ignoredColumns: string[]
}

export interface RowsOptions {
  /** A column the robot does not take: leave it out and name it (ignore), or refuse the file (reject). */
  extraColumns: 'ignore' | 'reject'
  /** Text that a spreadsheet program would run as a formula gets a leading ' (OWASP's CSV injection advice). */
  escapeFormulas: boolean
}

/** What starts a formula in Excel, LibreOffice and Google Sheets, before or after the white space trimmed. */
const FORMULA_START = /^[=+\-@\t\r]/

/** The text value, prefixed with ' when a spreadsheet would read it as a formula. */
function escapedText (written: string, trimmed: string): string {
  return FORMULA_START.test(written) || FORMULA_START.test(trimmed) ? `'${trimmed}` : trimmed
}

function isoDate (date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** A cell as the declared type, or the words that say what to write instead. */
function cellValue (cell: Exclude<Cell, null>, type: ParameterDeclaration['type'] | null): { ok: true, value: ArgumentValue } | { ok: false, why: ValueFault } {
  if (cell instanceof Date) {
    if (type === null || type === 'string' || type === 'date') return { ok: true, value: isoDate(cell) }
    return { ok: false, why: { fault: 'date_for', expected: type } }
  }
  if (typeof cell === 'number') {
    if (type === null || type === 'number') return { ok: true, value: cell }
    if (type === 'string') return { ok: true, value: String(cell) }
    if (type === 'boolean') return convertValue('boolean', String(cell))
    return { ok: false, why: { fault: 'number_for_date', raw: String(cell) } }
  }
  if (typeof cell === 'boolean') {
    if (type === null || type === 'boolean') return { ok: true, value: cell }
    if (type === 'string') return { ok: true, value: cell ? 'yes' : 'no' }
    return { ok: false, why: { fault: 'boolean_for', expected: type } }
  }
  return type === null ? { ok: true, value: cell } : convertValue(type, cell)
}

/** `common`: the values written in the email body, which every item gets too (a column may not repeat one). */
export function rowsToItems (table: Table, declared: ParameterDeclaration[], common: Record<string, ArgumentValue>, options: Partial<RowsOptions> = {}): RowsResult {
  const extraColumns = options.extraColumns ?? 'ignore'
  const escapeFormulas = options.escapeFormulas ?? true
  const problems: Problem[] = []
  const ignoredColumns: string[] = []
  const invalid = new Set<number>()
  const rowProblem = (row: number, found: Problem): void => { invalid.add(row); problems.push(found) }

  // The header: which declared parameter each column fills (null: a column to ignore).
  const columns: Array<{ name: string, type: ParameterDeclaration['type'] | null } | null> = []
  const seen = new Map<string, number>()
  const commonKeys = new Set(Object.keys(common).map((k) => k.toLowerCase()))
  table.header.forEach((title, index) => {
    if (title === '') {
      columns.push(null)
      if (table.rows.some((r) => cellText(r.cells[index]) !== '')) problems.push(problem('column_without_name', { column: index + 1 }))
      return
    }
    const key = title.toLowerCase()
    if (seen.has(key)) problems.push(problem('column_twice', { title, first: (seen.get(key) ?? 0) + 1, second: index + 1 }))
    seen.set(key, index)
    if (commonKeys.has(key)) problems.push(problem('column_and_body', { title }))
    if (declared.length === 0) { columns.push({ name: title, type: null }); return }
    const declaration = declared.find((p) => p.name.toLowerCase() === key)
    if (declaration === undefined) {
      if (extraColumns === 'ignore') ignoredColumns.push(title)
      else problems.push(problem('no_such_column', { title, takes: declared.map(asDeclared) }))
      columns.push(null)
      return
    }
    columns.push({ name: declaration.name, type: declaration.type })
  })
  const given = new Set(columns.flatMap((c) => c === null ? [] : [c.name.toLowerCase()]))
  const missing = declared.filter((p) => p.required && !given.has(p.name.toLowerCase()) && !commonKeys.has(p.name.toLowerCase()))
  // A required column missing beside one the robot does not take: most likely a typo in its title.
  if (missing.length > 0) for (const title of ignoredColumns) problems.push(problem('no_such_column', { title, takes: declared.map(asDeclared) }))
  for (const p of missing) problems.push(problem('missing_column', { column: asDeclared(p) }))
  // A header that does not fit makes every row's findings noise: say what to fix in the header.
  if (problems.length > 0) return { items: [], problems, invalidRows: table.rows.map((r) => r.row), headerInvalid: true, ignoredColumns }

  const items: QueueRow[] = []
  for (const { row, cells } of table.rows) {
    const content: Record<string, ArgumentValue> = {}
    let ok = true
    cells.forEach((cell, index) => {
      const column = columns[index]
      if (column === undefined && cellText(cell) !== '') { rowProblem(row, problem('beyond_last_column', { row, column: index + 1, value: clipped(cellText(cell)) })); ok = false }
      if (column === null || column === undefined || cell === null || cellText(cell) === '') return
      const converted = cellValue(typeof cell === 'string' ? cell.trim() : cell, column.type)
      // Only text typed as text: a number or a date column holds values, not formulas.
      const text = typeof cell === 'string' && (column.type === null || column.type === 'string')
      if (converted.ok) content[column.name] = text && escapeFormulas ? escapedText(cell, cell.trim()) : converted.value
      else { rowProblem(row, problem('bad_cell', { row, column: column.name, why: converted.why })); ok = false }
    })
    columns.forEach((column, index) => {
      const required = column !== null && declared.some((p) => p.required && p.name === column.name)
      if (required && cellText(cells[index]) === '') { rowProblem(row, problem('empty_required_cell', { row, column: column.name })); ok = false }
    })
    if (ok) items.push({ row, content })
  }
  if (table.rows.length === 0) problems.push(problem('no_rows'))
  return { items, problems, invalidRows: [...invalid], headerInvalid: false, ignoredColumns }
}

function cellText (cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return ''
  return cell instanceof Date ? isoDate(cell) : String(cell).trim()
}

function clipped (text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}
