import { problem } from './problem-text.js'
import type { Problem } from '../db/schema.js'

// What a sender, the door and the API are told about a rejected command stays small whatever the
// email was: at most 20 problems, the rest counted, and no problem longer than a few lines. A
// 1 MB body of bad lines is then a few kilobytes of answer, not megabytes three times over.

export const MAX_PROBLEMS = 20
const MAX_TEXT = 200
const MAX_MESSAGE = 500

export function clip (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** A problem's values with every text in them clipped: they come from the email. */
function clippedParams (params: Record<string, unknown>): Record<string, unknown> {
  const clipValue = (value: unknown): unknown => typeof value === 'string'
    ? clip(value, MAX_TEXT)
    : Array.isArray(value) ? value.slice(0, 50).map(clipValue) : value !== null && typeof value === 'object' ? clippedParams(value as Record<string, unknown>) : value
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, clipValue(v)]))
}

/** The first MAX_PROBLEMS problems, each clipped, then one line counting the others. */
export function boundProblems (problems: Problem[]): Problem[] {
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => ({
    ...(p.line !== undefined ? { line: p.line } : {}),
    ...(p.text !== undefined ? { text: clip(p.text, MAX_TEXT) } : {}),
    ...(p.kind !== undefined ? { kind: p.kind } : {}),
    ...(p.params !== undefined ? { params: clippedParams(p.params) } : {}),
    message: clip(p.message, MAX_MESSAGE)
  }))
  const more = problems.length - shown.length
  return more > 0 ? [...shown, problem('more_problems', { count: more })] : shown
}
