import type { Problem } from '../db/schema.js'
import { parseCommandLines, type ParsedCommand } from './command-grammar.js'
import { isGreeting, isSignOff } from './courtesy.js'
import { validatePlan, type LaunchPlan, type RobotCatalogue } from './validate-plan.js'
import { libraryMarks } from './reply-parser.js'
import { linesAboveQuote } from './written-text.js'

// A command as a person writes it: a greeting above it ("Hi,", "Добрый день!"), a sign-off and a
// phone's line below it ("Best regards, / Anna / Acme", "Отправлено с iPhone"). Those lines are not
// read as statements, and the reply says which lines were left out, so nothing is dropped from a
// command silently. Read as a signature:
//   - everything from a line that closes a message ("Best regards,", "С уважением,", "Sent from …");
//   - a last paragraph (after a blank line) none of whose lines the robot takes, when something
//     above it is read, none of its lines assigns a value (`=`), and not all of them are single
//     words (a mistyped function name alone is a mistake to report, "Anna Petrova / Acme Corp /
//     +7 495 123-45-67" is a signature).

export interface ReadCommand {
  command: ParsedCommand
  plan: LaunchPlan
  problems: Problem[]
  /** The lines read as a greeting or a signature, as written. */
  ignored: string[]
}

export interface ReadOptions {
  /** Only `name = value` lines count (a queue robot's email with a spreadsheet); other lines are a note. */
  argumentsOnly?: boolean
}

function check (lines: string[], robot: RobotCatalogue, skip: Set<number>, options: ReadOptions): { command: ParsedCommand, plan: LaunchPlan, problems: Problem[] } {
  const command = parseCommandLines(lines, skip)
  if (options.argumentsOnly === true) {
    const optional = { ...robot, parameters: robot.parameters.map((p) => ({ ...p, required: false })) }
    return { command, ...validatePlan({ arguments: command.arguments, calls: [], problems: [] }, optional) }
  }
  return { command, ...validatePlan(command, robot) }
}

/** Reads a command for `robot`, setting aside the greeting and the signature around it. */
export function readCommand (text: string, robot: RobotCatalogue, options: ReadOptions = {}): ReadCommand {
  // Cut at the quote once; the grammar reads these lines, and they are trimmed as it trims them.
  const lines = linesAboveQuote(text).map((l) => l.trim())
  const isFunction = (line: string): boolean => robot.functions.some((f) => f.name.toLowerCase() === line.replace(/[\s,.!]+$/u, '').toLowerCase())
  const skip = new Set<number>()
  const firstWritten = lines.findIndex((l) => l !== '')
  if (firstWritten !== -1 && isGreeting(lines[firstWritten] as string) && !isFunction(lines[firstWritten] as string)) skip.add(firstWritten + 1)
  const signOff = signOffStart(lines, (l, i) => !skip.has(i + 1) && !isFunction(l))
  if (signOff !== -1) for (let i = signOff; i < lines.length; i++) skip.add(i + 1)

  let read = check(lines, robot, skip, options)
  const paragraphs = paragraphsOf(lines, skip)
  const last = paragraphs.at(-1)
  if (last !== undefined && paragraphs.length > 1 && !options.argumentsOnly) {
    const troubled = new Set(read.problems.map((p) => p.line))
    const texts = last.map((n) => lines[n - 1] ?? '')
    if (last.every((n) => troubled.has(n)) && !texts.some((l) => l.includes('=')) && texts.some((l) => !/^[\p{L}\p{N}_.]+$/u.test(l))) {
      for (const n of last) skip.add(n)
      read = check(lines, robot, skip, options)
    }
  }
  const ignored = [...skip].sort((a, b) => a - b).map((n) => lines[n - 1] ?? '').filter((l) => l !== '')
  return { ...read, ignored }
}

/** Where the signature starts: the first closing line mailrun or email-reply-parser knows; -1 for none. */
function signOffStart (lines: string[], may: (line: string, index: number) => boolean): number {
  const own = lines.findIndex((l, i) => may(l, i) && isSignOff(l))
  const library = libraryMarks(lines).signature
  const theirs = library !== null && may(lines[library] ?? '', library) ? library : -1
  return own === -1 ? theirs : theirs === -1 ? own : Math.min(own, theirs)
}

/** Line numbers (from 1) of each paragraph of lines still read: runs of non-blank lines. */
function paragraphsOf (lines: string[], skip: Set<number>): number[][] {
  const paragraphs: number[][] = []
  let current: number[] = []
  lines.forEach((line, i) => {
    if (line === '' || line.startsWith('#')) {
      if (current.length > 0) paragraphs.push(current)
      current = []
    } else if (!skip.has(i + 1)) {
      current.push(i + 1)
    }
  })
  if (current.length > 0) paragraphs.push(current)
  return paragraphs
}

/**
 * A thank-you, a greeting and a signature, and nothing else, above the quote: a reply that asks
 * for nothing. An empty reply is not one: its command may stand below the quote (bottom-posting),
 * and it is answered as a command, never dropped unsaid.
 */
export function writesNothing (text: string): boolean {
  const lines = linesAboveQuote(text).map((l) => l.trim())
  const firstWritten = lines.findIndex((l) => l !== '')
  if (firstWritten === -1) return false
  const from = isGreeting(lines[firstWritten] as string) ? firstWritten + 1 : firstWritten
  const signOff = signOffStart(lines, (_, i) => i >= from)
  return lines.slice(from, signOff === -1 ? lines.length : signOff).every((l) => l === '')
}
