import type { ParameterDeclaration, Problem } from '../db/schema.js'
import { convertValue, describeParameter, type ArgumentValue } from '../commands/validate-plan.js'
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
}

function isoDate (date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** A cell as the declared type, or the words that say what to write instead. */
function cellValue (cell: Exclude<Cell, null>, type: ParameterDeclaration['type'] | null): { ok: true, value: ArgumentValue } | { ok: false, message: string } {
  if (cell instanceof Date) {
    if (type === null || type === 'string' || type === 'date') return { ok: true, value: isoDate(cell) }
    return { ok: false, message: `a date where ${type === 'number' ? 'a number' : 'yes or no'} is expected` }
  }
  if (typeof cell === 'number') {
    if (type === null || type === 'number') return { ok: true, value: cell }
    if (type === 'string') return { ok: true, value: String(cell) }
    if (type === 'boolean') return convertValue('boolean', String(cell))
    return { ok: false, message: `${cell} is not a date; format the column as a date, or write it like 2024-05-31` }
  }
  if (typeof cell === 'boolean') {
    if (type === null || type === 'boolean') return { ok: true, value: cell }
    if (type === 'string') return { ok: true, value: cell ? 'yes' : 'no' }
    return { ok: false, message: `yes or no where ${type === 'number' ? 'a number' : 'a date'} is expected` }
  }
  return type === null ? { ok: true, value: cell } : convertValue(type, cell)
}

/** `common`: the values written in the email body, which every item gets too (a column may not repeat one). */
export function rowsToItems (table: Table, declared: ParameterDeclaration[], common: Record<string, ArgumentValue>): RowsResult {
  const problems: Problem[] = []
  const invalid = new Set<number>()
  const rowProblem = (row: number, message: string): void => { invalid.add(row); problems.push({ message: `row ${row}, ${message}` }) }

  // The header: which declared parameter each column fills (null: a column to ignore).
  const columns: Array<{ name: string, type: ParameterDeclaration['type'] | null } | null> = []
  const seen = new Map<string, number>()
  const commonKeys = new Set(Object.keys(common).map((k) => k.toLowerCase()))
  table.header.forEach((title, index) => {
    const at = `column ${index + 1}`
    if (title === '') {
      columns.push(null)
      if (table.rows.some((r) => cellText(r.cells[index]) !== '')) problems.push({ message: `row 1, ${at} has values but no name: write the field's name in the first row` })
      return
    }
    const key = title.toLowerCase()
    if (seen.has(key)) problems.push({ message: `row 1: the column "${title}" appears twice (columns ${(seen.get(key) ?? 0) + 1} and ${index + 1})` })
    seen.set(key, index)
    if (commonKeys.has(key)) problems.push({ message: `row 1: "${title}" is both a column and written in the email; give it in one place` })
    if (declared.length === 0) { columns.push({ name: title, type: null }); return }
    const declaration = declared.find((p) => p.name.toLowerCase() === key)
    if (declaration === undefined) {
      problems.push({ message: `row 1: the robot has no input "${title}"; its columns can be: ${declared.map(describeParameter).join(', ')}` })
      columns.push(null)
      return
    }
    columns.push({ name: declaration.name, type: declaration.type })
  })
  const given = new Set(columns.flatMap((c) => c === null ? [] : [c.name.toLowerCase()]))
  const missing = declared.filter((p) => p.required && !given.has(p.name.toLowerCase()) && !commonKeys.has(p.name.toLowerCase()))
  for (const p of missing) problems.push({ message: `row 1: the required column "${p.name}" is missing (${describeParameter(p)})` })
  // A header that does not fit makes every row's findings noise: say what to fix in the header.
  if (problems.length > 0) return { items: [], problems, invalidRows: table.rows.map((r) => r.row), headerInvalid: true }

  const items: QueueRow[] = []
  for (const { row, cells } of table.rows) {
    const content: Record<string, ArgumentValue> = {}
    let ok = true
    cells.forEach((cell, index) => {
      const column = columns[index]
      if (column === undefined && cellText(cell) !== '') { rowProblem(row, `column ${index + 1}: a value beyond the last named column ("${clipped(cellText(cell))}")`); ok = false }
      if (column === null || column === undefined || cell === null || cellText(cell) === '') return
      const converted = cellValue(typeof cell === 'string' ? cell.trim() : cell, column.type)
      if (converted.ok) content[column.name] = converted.value
      else { rowProblem(row, `column "${column.name}": ${converted.message}`); ok = false }
    })
    columns.forEach((column, index) => {
      const required = column !== null && declared.some((p) => p.required && p.name === column.name)
      if (required && cellText(cells[index]) === '') { rowProblem(row, `column "${column.name}" is empty; it is required`); ok = false }
    })
    if (ok) items.push({ row, content })
  }
  if (table.rows.length === 0) problems.push({ message: 'the spreadsheet has a header row but no rows below it: add one row per queue item' })
  return { items, problems, invalidRows: [...invalid], headerInvalid: false }
}

function cellText (cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return ''
  return cell instanceof Date ? isoDate(cell) : String(cell).trim()
}

function clipped (text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}
