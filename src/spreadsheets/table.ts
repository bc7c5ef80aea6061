import type { Problem } from '../db/schema.js'
import { problem } from '../commands/problem-text.js'

// A spreadsheet as mailrun reads it: the header row's names, then every other row numbered as the
// sender sees it in their program (the header is row 1), so a problem can point at "row 7".

export type Cell = string | number | boolean | Date | null

export interface Table {
  header: string[]
  rows: Array<{ row: number, cells: Cell[] }>
}

export interface TableLimits {
  /** Data rows beyond the header; a larger file is refused before it is all read. */
  maxRows: number
  /** Bytes an XLSX may unpack to, as its directory declares them. */
  maxUnpackedBytes: number
}

/** The file cannot be read as a table; the problem says what to fix and is shown to the sender. */
export class UnreadableSpreadsheet extends Error {
  constructor (readonly problem: Problem) {
    super(problem.message)
  }
}

/** Drops rows with no value at all, as a spreadsheet program shows them: blank. */
export function isBlankRow (cells: Cell[]): boolean {
  return cells.every((c) => c === null || (typeof c === 'string' && c.trim() === ''))
}

export function tooManyRows (limits: TableLimits): UnreadableSpreadsheet {
  return new UnreadableSpreadsheet(problem('too_many_rows', { max: limits.maxRows }))
}
