import { problem } from '../commands/problem-text.js'
import { unzipSync } from 'fflate'
import { readSheet } from 'read-excel-file/node'
import { inflatedSize } from './inflated-size.js'
import { isBlankRow, tooManyRows, UnreadableSpreadsheet, type Cell, type Table, type TableLimits } from './table.js'

// An XLSX is a ZIP of XML files, and a small one can unpack to gigabytes: its directory is read
// first (without unpacking anything) and a file that says it unpacks to more than the limit is
// refused at once; then what it really unpacks to is counted (inflated-size.ts), since a directory
// can lie, before read-excel-file inflates it. The first sheet is the table.

const MAX_ENTRIES = 10_000

function checkDirectory (bytes: Buffer, limits: TableLimits): void {
  let total = 0
  let entries = 0
  try {
    unzipSync(bytes, {
      filter: (file) => {
        entries++
        total += file.originalSize
        return false
      }
    })
  } catch (error) {
    throw new UnreadableSpreadsheet(problem('xlsx_unreadable', { detail: (error as Error).message }))
  }
  if (entries > MAX_ENTRIES || total > limits.maxUnpackedBytes) {
    throw new UnreadableSpreadsheet(problem('workbook_too_large', { mb: Math.ceil(total / 1024 / 1024), maxMb: Math.floor(limits.maxUnpackedBytes / 1024 / 1024) }))
  }
}

export async function readXlsx (bytes: Buffer, limits: TableLimits): Promise<Table> {
  checkDirectory(bytes, limits)
  let real: { over: boolean, bytes: number }
  try {
    real = await inflatedSize(bytes, limits.maxUnpackedBytes)
  } catch (error) {
    throw new UnreadableSpreadsheet(problem('xlsx_unreadable', { detail: (error as Error).message }))
  }
  // Counting stopped at the limit: how far past it the file goes is not known, nor worth learning.
  if (real.over) throw new UnreadableSpreadsheet(problem('workbook_too_large', { mb: Math.ceil(real.bytes / 1024 / 1024), maxMb: Math.floor(limits.maxUnpackedBytes / 1024 / 1024), counted: true }))
  let data: Cell[][]
  try {
    data = await readSheet(bytes, { trim: true }) as Cell[][]
  } catch (error) {
    throw new UnreadableSpreadsheet(problem('workbook_unreadable', { detail: (error as Error).message }))
  }
  const numbered = data.map((cells, i) => ({ row: i + 1, cells })).filter((r) => !isBlankRow(r.cells))
  const [header, ...rows] = numbered
  if (header === undefined) throw new UnreadableSpreadsheet(problem('workbook_empty'))
  if (rows.length > limits.maxRows) throw tooManyRows(limits)
  return { header: header.cells.map((c) => c === null ? '' : c instanceof Date ? c.toISOString().slice(0, 10) : String(c).trim()), rows }
}
