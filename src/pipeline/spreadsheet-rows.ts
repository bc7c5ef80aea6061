import { problem } from '../commands/problem-text.js'
import type { ParameterDeclaration, Problem } from '../db/schema.js'
import { AttachmentTooLarge, parseWithAttachments, type AttachmentInfo } from '../mail/parse-message.js'
import { readSpreadsheet, spreadsheetKind } from '../spreadsheets/read-spreadsheet.js'
import { rowsToItems, type QueueRow } from '../spreadsheets/rows-to-items.js'
import { UnreadableSpreadsheet, type TableLimits } from '../spreadsheets/table.js'
import { boundProblems } from '../commands/problems.js'
import type { ArgumentValue } from '../commands/validate-plan.js'

// A queue robot's email with a spreadsheet attached: every row becomes a queue item. The file is
// read only here, once the robot is known to be a queue robot, so no other message keeps an
// attachment in memory.

export type SpreadsheetRows =
  | { kind: 'none' }
  | { kind: 'problems', problems: Problem[] }
  | { kind: 'rows', items: QueueRow[], skipped: { rows: number, problems: Problem[], ignoredColumns?: string[] } }

export const defaultTableLimits: TableLimits = { maxRows: 50_000, maxUnpackedBytes: 64 * 1024 * 1024 }

/** The spreadsheets attached; .txt files count only when nothing else is one (a note beside a CSV is a note). */
export function spreadsheetsOf (attachments: AttachmentInfo[]): AttachmentInfo[] {
  const sheets = attachments.filter((a) => !a.inline && spreadsheetKind(a) !== null)
  const tables = sheets.filter((a) => spreadsheetKind(a) !== 'text')
  return tables.length > 0 ? tables : sheets
}

export async function spreadsheetRows (
  raw: Buffer,
  attachments: AttachmentInfo[],
  robot: { parameters: ParameterDeclaration[], invalidRows: 'reject' | 'skip', extraColumns: 'reject' | 'ignore', escapeFormulas: boolean },
  common: Record<string, ArgumentValue>,
  limits: TableLimits
): Promise<SpreadsheetRows> {
  const sheets = spreadsheetsOf(attachments)
  const sheet = sheets[0]
  if (sheet === undefined) return { kind: 'none' }
  if (sheets.length > 1) return { kind: 'problems', problems: [problem('several_sheets', { count: sheets.length, names: sheets.map((s) => s.filename ?? s.contentType) })] }
  let table
  try {
    const { kept } = await parseWithAttachments(raw, { wanted: (a) => a.index === sheet.index, maxBytes: raw.length })
    const file = kept[0]
    if (file === undefined) return { kind: 'problems', problems: [problem('sheet_not_read_back', { name: sheet.filename ?? '' })] }
    table = await readSpreadsheet(file, limits)
  } catch (error) {
    const where = sheet.filename !== null ? { text: sheet.filename } : {}
    if (error instanceof UnreadableSpreadsheet) return { kind: 'problems', problems: [{ ...error.problem, ...where }] }
    if (error instanceof AttachmentTooLarge) return { kind: 'problems', problems: [problem('attachment_too_large', { name: error.filename ?? '', maxBytes: error.maxBytes }, where)] }
    throw error
  }
  if (table === null) return { kind: 'none' }
  const result = rowsToItems(table, robot.parameters, common, { extraColumns: robot.extraColumns, escapeFormulas: robot.escapeFormulas })
  const ignored = result.ignoredColumns.length > 0 ? { ignoredColumns: result.ignoredColumns.slice(0, 50) } : {}
  if (result.problems.length === 0) return { kind: 'rows', items: result.items, skipped: { rows: 0, problems: [], ...ignored } }
  if (result.headerInvalid || robot.invalidRows === 'reject' || result.items.length === 0) return { kind: 'problems', problems: result.problems }
  return { kind: 'rows', items: result.items, skipped: { rows: result.invalidRows.length, problems: boundProblems(result.problems), ...ignored } }
}
