import type { FunctionDeclaration, ParameterDeclaration } from '../db/schema.js'
import { errors } from '../errors.js'

// A robot's declared catalogue as plain text, so the console's robot form works without
// JavaScript. One parameter per line, `name: type[, required][ — description]`; a function is a
// line `Name[ — description]`, its parameters indented below it:
//
//   ExtractData — Pull data from the ERP
//     region: string, required
//     currency: string
//   BuildReport

const TYPES = ['string', 'number', 'boolean', 'date'] as const
const NAME = /^[\p{L}\p{N}_.]+$/u
const DASH = /\s+[—–-]\s+/

function splitDescription (text: string): { head: string, description?: string } {
  const match = DASH.exec(text)
  if (match === null) return { head: text.trim() }
  const description = text.slice(match.index + match[0].length).trim()
  return { head: text.slice(0, match.index).trim(), ...(description !== '' ? { description } : {}) }
}

function parameterFrom (line: string, where: string): ParameterDeclaration {
  const { head, description } = splitDescription(line)
  const match = /^([^:\s]+)\s*:\s*(\w+)\s*(?:,\s*(required|optional))?$/i.exec(head)
  if (match === null) throw new errors.BadRequest(`${where}: write a parameter as "name: type" or "name: type, required" (types: ${TYPES.join(', ')}), then optionally " — description"`)
  const [, name = '', type = '', flag] = match
  if (!NAME.test(name)) throw new errors.BadRequest(`${where}: "${name}" is not a valid name (letters, digits, _ and . only)`)
  const lower = type.toLowerCase() as ParameterDeclaration['type']
  if (!TYPES.includes(lower)) throw new errors.BadRequest(`${where}: "${type}" is not a type: use ${TYPES.join(', ')}`)
  return { name, type: lower, required: flag?.toLowerCase() === 'required', ...(description !== undefined ? { description } : {}) }
}

const lines = (text: string): Array<{ n: number, raw: string }> =>
  text.replace(/\r\n?/g, '\n').split('\n').map((raw, i) => ({ n: i + 1, raw })).filter((l) => l.raw.trim() !== '')

export function parametersFromText (text: string, field = 'parameters'): ParameterDeclaration[] {
  return lines(text).map((l) => parameterFrom(l.raw.trim(), `${field}, line ${l.n}`))
}

export function functionsFromText (text: string, field = 'functions'): FunctionDeclaration[] {
  const functions: FunctionDeclaration[] = []
  for (const l of lines(text)) {
    if (/^\s/.test(l.raw)) {
      const current = functions.at(-1)
      if (current === undefined) throw new errors.BadRequest(`${field}, line ${l.n}: an indented line is a parameter of the function above it, and there is none`)
      current.parameters.push(parameterFrom(l.raw.trim(), `${field}, line ${l.n}`))
      continue
    }
    const { head, description } = splitDescription(l.raw)
    if (!NAME.test(head)) throw new errors.BadRequest(`${field}, line ${l.n}: "${head}" is not a function name (letters, digits, _ and . only; indent a parameter under its function)`)
    functions.push({ name: head, ...(description !== undefined ? { description } : {}), parameters: [] })
  }
  return functions
}

function parameterToText (p: ParameterDeclaration): string {
  return `${p.name}: ${p.type}${p.required ? ', required' : ''}${p.description !== undefined && p.description !== '' ? ` — ${p.description}` : ''}`
}

export function parametersToText (parameters: ParameterDeclaration[]): string {
  return parameters.map(parameterToText).join('\n')
}

export function functionsToText (functions: FunctionDeclaration[]): string {
  return functions.map((f) => [`${f.name}${f.description !== undefined && f.description !== '' ? ` — ${f.description}` : ''}`, ...f.parameters.map((p) => `  ${parameterToText(p)}`)].join('\n')).join('\n')
}
