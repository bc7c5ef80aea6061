import type { FunctionDeclaration, ParameterDeclaration, Problem } from '../db/schema.js'
import type { Assignment, ParsedCommand } from './command-grammar.js'
import { readNumber } from './numbers.js'
import { problem, type Declared, type Owner, type ValueFault } from './problem-text.js'

export type ArgumentValue = string | number | boolean

/** A launch plan that the robot's declarations accept: values typed, names as declared. */
export interface LaunchPlan {
  arguments: Record<string, ArgumentValue>
  functions: Array<{ name: string, args: Record<string, ArgumentValue> }>
  /** Lines of the email read as a greeting or a signature, not as the command (the reply lists them). */
  ignored?: string[]
}

export interface RobotCatalogue {
  name: string
  parameters: ParameterDeclaration[]
  functions: FunctionDeclaration[]
}

/** A declaration as problems carry it. */
export function asDeclared (p: ParameterDeclaration): Declared {
  return { name: p.name, type: p.type, required: p.required }
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'да', 'on'])
const FALSE = new Set(['false', 'no', 'n', '0', 'нет', 'off'])

function isCalendarDate (y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

/** The value as the declared type, or the words that say what to write instead. */
export function convertValue (type: ParameterDeclaration['type'], raw: string): { ok: true, value: ArgumentValue } | { ok: false, why: ValueFault } {
  switch (type) {
    case 'string':
      return { ok: true, value: raw }
    case 'number': {
      const value = readNumber(raw)
      return value === null ? { ok: false, why: { fault: 'not_number', raw } } : { ok: true, value }
    }
    case 'boolean': {
      const word = raw.toLocaleLowerCase('und')
      if (TRUE.has(word)) return { ok: true, value: true }
      if (FALSE.has(word)) return { ok: true, value: false }
      return { ok: false, why: { fault: 'not_boolean', raw } }
    }
    case 'date': {
      const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw)
      // Day first with dots, as Russian and German write dates; Excel in those locales may drop the
      // leading zeros (1.12.2026), so one or two digits are read.
      const dotted = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(raw)
      const [y, m, d] = iso !== null ? [iso[1], iso[2], iso[3]] : dotted !== null ? [dotted[3], dotted[2]?.padStart(2, '0'), dotted[1]?.padStart(2, '0')] : []
      if (y === undefined || m === undefined || d === undefined || !isCalendarDate(Number(y), Number(m), Number(d))) {
        return { ok: false, why: { fault: 'not_date', raw } }
      }
      return { ok: true, value: `${y}-${m}-${d}` }
    }
  }
}

function checkAssignments (
  given: Array<Assignment & { line?: number, text?: string }>,
  declared: ParameterDeclaration[],
  where: { line?: number, text?: string, of: Owner },
  problems: Problem[]
): Record<string, ArgumentValue> {
  const values: Record<string, ArgumentValue> = {}
  const at = (a: { line?: number, text?: string }): { line?: number, text?: string } => ({
    ...(a.line ?? where.line) !== undefined ? { line: a.line ?? where.line } : {},
    ...(a.text ?? where.text) !== undefined ? { text: a.text ?? where.text } : {}
  })
  for (const assignment of given) {
    if (declared.length === 0) {
      values[assignment.name] = assignment.value
      continue
    }
    const declaration = declared.find((p) => p.name.toLowerCase() === assignment.name.toLowerCase())
    if (declaration === undefined) {
      problems.push(problem('no_such_input', { ...where.of, input: assignment.name, takes: declared.map(asDeclared) }, at(assignment)))
      continue
    }
    const converted = convertValue(declaration.type, assignment.value)
    if (converted.ok) values[declaration.name] = converted.value
    else problems.push(problem('bad_value', { input: declaration.name, why: converted.why }, at(assignment)))
  }
  for (const p of declared) {
    if (p.required && !given.some((a) => a.name.toLowerCase() === p.name.toLowerCase())) {
      problems.push(problem('needs_input', { ...where.of, input: p.name, type: p.type }, at({})))
    }
  }
  return values
}

/**
 * Checks the statements against what the robot declares. A robot that declares no parameters
 * (or no functions) accepts any, as text; one that declares some accepts only those.
 */
export function validatePlan (command: ParsedCommand, robot: RobotCatalogue): { plan: LaunchPlan, problems: Problem[] } {
  const problems: Problem[] = [...command.problems]
  const args = checkAssignments(command.arguments, robot.parameters, { of: { owner: 'robot', name: robot.name } }, problems)
  const functions: LaunchPlan['functions'] = []
  for (const call of command.calls) {
    if (robot.functions.length === 0) {
      functions.push({ name: call.name, args: Object.fromEntries(call.args.map((a) => [a.name, a.value])) })
      continue
    }
    const declaration = robot.functions.find((f) => f.name.toLowerCase() === call.name.toLowerCase())
    if (declaration === undefined) {
      problems.push(problem('no_such_function', { fn: call.name, robot: robot.name, has: robot.functions.map((f) => f.name) }, { line: call.line, text: call.text }))
      continue
    }
    const callArgs = checkAssignments(call.args, declaration.parameters, { line: call.line, text: call.text, of: { owner: 'function', name: declaration.name } }, problems)
    functions.push({ name: declaration.name, args: callArgs })
  }
  // Problems of the whole email (a missing required input) come after the line-by-line ones.
  problems.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER))
  return { plan: { arguments: args, functions }, problems }
}
