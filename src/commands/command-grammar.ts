import type { Problem } from '../db/schema.js'
import { isGreeting, plainWords } from './courtesy.js'
import { problem } from './problem-text.js'
import { linesAboveQuote } from './written-text.js'

// The email a sender writes (design, "The email a sender writes"):
//   period = 2022-05                                  an input argument
//   ExtractData: region = North, currency = RUB       a function call, run in the order written
//   BuildReport                                       a function without inputs
// Values are bare words or "quoted strings" (\" and \\ escapes). Reading stops at the signature
// delimiter, the first quoted line, or a reply header. Blank lines and # comments are ignored.

export interface Assignment { name: string, value: string }

export interface ArgumentStatement extends Assignment { line: number, text: string }

export interface CallStatement { name: string, args: Assignment[], line: number, text: string }

export interface ParsedCommand {
  arguments: ArgumentStatement[]
  calls: CallStatement[]
  problems: Problem[]
}

const WORD = /^[\p{L}\p{N}_.]+$/u
// Reply and forward prefixes of the mail clients senders use (НА: is Russian Outlook's reply, ПЕРЕСЛ: its forward).
export const SUBJECT_PREFIX = /^\s*(?:re|fwd?|fw|aw|wg|tr|sv|vs|rv|отв|ответ|на|пересл|пер|fwd)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*/iu
const HELP = new Set(['help', '?', 'помощь', 'справка'])

/** The robot name a subject asks for: reply and forward prefixes removed, white space collapsed. */
export function robotNameFromSubject (subject: string): string {
  let name = subject.normalize('NFC').replace(/[\u00a0\u2000-\u200b\ufeff]/g, ' ')
  let previous = ''
  while (previous !== name) {
    previous = name
    name = name.replace(SUBJECT_PREFIX, '')
  }
  return name.trim().replace(/\s+/gu, ' ')
}

export function isHelpRequest (robotName: string): boolean {
  return HELP.has(robotName.toLocaleLowerCase('und'))
}

const STATUS = new Set(['status', 'статус'])

/** `status` asks for the sender's recent launches; `status <launch id or job id>` for one of them. */
export type StatusRequest = { which: 'recent' } | { which: 'one', ref: string }

const CANCEL = new Set(['cancel', 'отмена', 'отменить', 'отмените', 'отмени'])
const KILL = new Set(['kill', 'убить'])

export type ThreadVerb = { verb: 'status' } | { verb: 'cancel', kill: boolean }

/**
 * A reply in a thread whose first line is a verb (`status`, `cancel`, `cancel kill`, also with a
 * "please" and punctuation: `Cancel, please.`, `Отмена, пожалуйста`), after a greeting line if
 * there is one: that verb, else null.
 */
export function threadVerb (text: string): ThreadVerb | null {
  const first = linesAboveQuote(text).map((l) => l.trim()).find((l) => l !== '' && !isGreeting(l)) ?? ''
  const words = plainWords(first)
  if (words.length === 1 && STATUS.has(words[0] ?? '')) return { verb: 'status' }
  if (CANCEL.has(words[0] ?? '') && (words.length === 1 || (words.length === 2 && KILL.has(words[1] ?? '')))) return { verb: 'cancel', kill: words.length === 2 }
  return null
}

/** `cancel <job number or launch id>` (`kill` anywhere after it asks for a kill); ref '' when none was written. */
export function cancelRequest (robotName: string): { ref: string, kill: boolean } | null {
  const [word = '', ...rest] = plainWords(robotName)
  if (!CANCEL.has(word.toLocaleLowerCase('und'))) return null
  const kill = rest.some((w) => KILL.has(w.toLocaleLowerCase('und')))
  const ref = rest.filter((w) => !KILL.has(w.toLocaleLowerCase('und'))).join(' ').trim().replace(/^#/, '').slice(0, 100)
  return { ref, kill }
}

export function statusRequest (robotName: string): StatusRequest | null {
  const [word = '', ...rest] = plainWords(robotName)
  if (!STATUS.has(word.toLocaleLowerCase('und'))) return null
  const ref = rest.join(' ').trim().replace(/^#/, '').slice(0, 100)
  return ref === '' ? { which: 'recent' } : { which: 'one', ref }
}

/** What is wrong with one line, as a problem of the catalogue. */
class LineError extends Error {
  constructor (readonly problem: Problem) {
    super(problem.message)
  }
}

interface Cursor { text: string, at: number }

function skipSpaces (c: Cursor): void {
  while (c.at < c.text.length && /\s/u.test(c.text[c.at] as string)) c.at++
}

function readQuoted (c: Cursor): string {
  let value = ''
  c.at++ // opening quote
  while (c.at < c.text.length) {
    const ch = c.text[c.at] as string
    if (ch === '\\' && (c.text[c.at + 1] === '"' || c.text[c.at + 1] === '\\')) {
      value += c.text[c.at + 1]
      c.at += 2
      continue
    }
    if (ch === '"') {
      c.at++
      return value
    }
    value += ch
    c.at++
  }
  throw new LineError(problem('quote_not_closed'))
}

/** A value: quoted, or bare up to the end (or, inside a call, up to the next comma). */
function readValue (c: Cursor, name: string, inCall: boolean): string {
  skipSpaces(c)
  if (c.text[c.at] === '"') {
    const value = readQuoted(c)
    skipSpaces(c)
    if (c.at < c.text.length && !(inCall && c.text[c.at] === ',')) {
      throw new LineError(problem('after_quoted', { name, inCall }))
    }
    return value
  }
  const end = inCall ? (c.text.indexOf(',', c.at) === -1 ? c.text.length : c.text.indexOf(',', c.at)) : c.text.length
  const value = c.text.slice(c.at, end).trim()
  if (value.includes('"')) throw new LineError(problem('stray_quote', { name }))
  c.at = end
  if (value === '') throw new LineError(problem('no_value', { name }))
  return value
}

function checkName (name: string, what: 'input' | 'function'): string {
  if (name === '') throw new LineError(problem('name_missing', { what }))
  if (!WORD.test(name)) throw new LineError(problem('bad_name', { name, what }))
  return name
}

function parseStatement (text: string): { kind: 'argument', name: string, value: string } | { kind: 'call', name: string, args: Assignment[] } {
  const firstEquals = text.indexOf('=')
  const firstColon = text.indexOf(':')
  const firstQuote = text.indexOf('"')
  const first = Math.min(...[firstEquals, firstColon, firstQuote].map((i) => (i === -1 ? Infinity : i)))
  if (first === firstQuote && firstQuote !== -1) throw new LineError(problem('starts_with_value'))
  if (first === firstEquals && firstEquals !== -1) {
    const name = checkName(text.slice(0, firstEquals).trim(), 'input')
    return { kind: 'argument', name, value: readValue({ text, at: firstEquals + 1 }, name, false) }
  }
  const name = checkName((firstColon === -1 ? text : text.slice(0, firstColon)).trim(), 'function')
  const args: Assignment[] = []
  if (firstColon === -1) return { kind: 'call', name, args }
  const c: Cursor = { text, at: firstColon + 1 }
  skipSpaces(c)
  while (c.at < c.text.length) {
    const equals = c.text.indexOf('=', c.at)
    const comma = c.text.indexOf(',', c.at)
    if (equals === -1 || (comma !== -1 && comma < equals)) {
      const piece = c.text.slice(c.at, comma === -1 ? undefined : comma).trim()
      throw new LineError(problem('needs_value', { piece, fn: name, word: piece.split(/\s+/u)[0] ?? 'name' }))
    }
    const key = checkName(c.text.slice(c.at, equals).trim(), 'input')
    if (args.some((a) => a.name === key)) throw new LineError(problem('given_twice_in_call', { name: key, fn: name }))
    c.at = equals + 1
    args.push({ name: key, value: readValue(c, key, true) })
    skipSpaces(c)
    if (c.text[c.at] === ',') {
      c.at++
      skipSpaces(c)
      if (c.at >= c.text.length) throw new LineError(problem('comma_at_end'))
    }
  }
  return { kind: 'call', name, args }
}

/**
 * Reads the statements of a message body up to the quoted earlier mail; every problem carries its
 * line and text. Lines numbered in `skip` (from 1: a greeting, a signature) are not read.
 */
export function parseCommandBody (body: string, skip: ReadonlySet<number> = new Set()): ParsedCommand {
  return parseCommandLines(linesAboveQuote(body), skip)
}

/** parseCommandBody for lines already cut at the quote (line numbers count from the first). */
export function parseCommandLines (lines: string[], skip: ReadonlySet<number> = new Set()): ParsedCommand {
  const result: ParsedCommand = { arguments: [], calls: [], problems: [] }
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] as string).trim()
    if (text === '' || text.startsWith('#') || skip.has(i + 1)) continue
    const line = i + 1
    try {
      const statement = parseStatement(text)
      if (statement.kind === 'argument') {
        const earlier = result.arguments.find((a) => a.name === statement.name)
        if (earlier !== undefined) throw new LineError(problem('given_twice', { name: statement.name, line: earlier.line }))
        result.arguments.push({ name: statement.name, value: statement.value, line, text })
      } else {
        result.calls.push({ name: statement.name, args: statement.args, line, text })
      }
    } catch (error) {
      if (!(error instanceof LineError)) throw error
      result.problems.push({ line, text, ...error.problem })
    }
  }
  return result
}

function renderValue (value: string): string {
  return /^[^\s",=:#>][^",]*$/u.test(value) && value === value.trim() && !value.endsWith(' ')
    ? value
    : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** The text a sender would write for these statements; parseCommandBody reads it back unchanged. */
export function renderCommand (command: { arguments: Assignment[], calls: Array<{ name: string, args: Assignment[] }> }): string {
  const lines = command.arguments.map((a) => `${a.name} = ${renderValue(a.value)}`)
  for (const call of command.calls) {
    lines.push(call.args.length === 0 ? call.name : `${call.name}: ${call.args.map((a) => `${a.name} = ${renderValue(a.value)}`).join(', ')}`)
  }
  return lines.join('\n')
}

/**
 * The word that makes a robot name unreachable by email, or null: a subject that is `help` (or
 * `?`, `помощь`), or starts with `status` or `cancel` (in either language), is read as that request
 * and never as the robot.
 */
export function reservedRobotWord (name: string): string | null {
  const whole = robotNameFromSubject(name)
  if (isHelpRequest(whole)) return whole
  const [word = ''] = plainWords(name)
  const lower = word.toLocaleLowerCase('und')
  return STATUS.has(lower) || CANCEL.has(lower) ? word : null
}
