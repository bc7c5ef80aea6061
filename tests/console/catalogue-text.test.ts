import fc from 'fast-check'
import t from 'tap'
import { functionsFromText, functionsToText, parametersFromText, parametersToText } from '../../src/console/catalogue-text.js'

// The robot form's text editor for parameters and functions: what it writes, it reads back
// unchanged, and what it cannot read is a 400 naming the line.

const name = fc.stringMatching(/^[A-Za-zА-Яа-я0-9_.]{1,20}$/)
const description = fc.option(fc.stringMatching(/^[^\n\r]{1,40}$/).map((s) => s.trim()).filter((s) => s !== '' && !/\s[—–-]\s/.test(` ${s} `)), { nil: undefined })
const parameter = fc.record({ name, type: fc.constantFrom('string', 'number', 'boolean', 'date') as fc.Arbitrary<'string' | 'number' | 'boolean' | 'date'>, required: fc.boolean(), description })
  .map((p) => p.description === undefined ? { name: p.name, type: p.type, required: p.required } : p)
const fn = fc.record({ name, description, parameters: fc.array(parameter, { maxLength: 4 }) })
  .map((f) => f.description === undefined ? { name: f.name, parameters: f.parameters } : f)

t.test('what is written is read back the same', async (t) => {
  fc.assert(fc.property(fc.array(parameter, { maxLength: 6 }), (ps) => { t.same(parametersFromText(parametersToText(ps)), ps) }), { numRuns: 300 })
  fc.assert(fc.property(fc.array(fn, { maxLength: 6 }), (fs) => { t.same(functionsFromText(functionsToText(fs)), fs) }), { numRuns: 300 })
})

t.test('the documented form', async (t) => {
  t.same(functionsFromText('ExtractData — Pull data from the ERP\n  region: string, required\n  currency: String\n\nBuildReport\r\n'), [
    { name: 'ExtractData', description: 'Pull data from the ERP', parameters: [{ name: 'region', type: 'string', required: true }, { name: 'currency', type: 'string', required: false }] },
    { name: 'BuildReport', parameters: [] }
  ])
  t.same(parametersFromText('period: date, required - The month'), [{ name: 'period', type: 'date', required: true, description: 'The month' }])
})

t.test('anything else is a 400 that names the line and says what to write', async (t) => {
  t.throws(() => parametersFromText('period'), { statusCode: 400, message: /line 1: write a parameter as "name: type"/ })
  t.throws(() => parametersFromText('ok: string\nperiod: month'), { statusCode: 400, message: /line 2: "month" is not a type/ })
  t.throws(() => functionsFromText('  region: string'), { statusCode: 400, message: /line 1: an indented line is a parameter of the function above it/ })
  t.throws(() => functionsFromText('Build Report'), { statusCode: 400, message: /"Build Report" is not a function name/ })
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    try { functionsFromText(text); parametersFromText(text) } catch (error) { if ((error as { statusCode?: number }).statusCode !== 400) throw error }
  }), { numRuns: 500 })
})
