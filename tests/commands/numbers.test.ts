import fc from 'fast-check'
import t from 'tap'
import { readNumber } from '../../src/commands/numbers.js'
import { convertValue } from '../../src/commands/validate-plan.js'

// Numbers as spreadsheets and people write them (#27): Russian Excel writes 1 234,56 with a
// no-break space, Swiss 1'234.56, English 1,234.56, German 1.234,56; a currency sign beside them.

t.test('the forms Excel and people write in Russia, Europe and the US', async (t) => {
  const cases: Array<[string, number]> = [
    ['1\u00a0234,56', 1234.56], ['1 234,56', 1234.56], ['1\u202f234,56', 1234.56], ['2 000 000,00', 2000000], ['"2 000 000,00"'.slice(1, -1), 2000000],
    ['1,234.56', 1234.56], ['1.234,56', 1234.56], ["1'234.56", 1234.56], ['1’234', 1234], ['1,234,567', 1234567], ['1.234.567', 1234567],
    ['3,5', 3.5], ['3.5', 3.5], ['-3,5', -3.5], ['−7', -7], ['+7', 7], ['42', 42],
    ['2 000 000,00 ₽', 2000000], ['₽ 100', 100], ['100 руб.', 100], ['$42', 42], ['€ 1.234,50', 1234.5], ['1 234 RUB', 1234]
  ]
  for (const [written, value] of cases) t.equal(readNumber(written), value, JSON.stringify(written))
})

t.test('what is not a number stays refused, and says how to write one', async (t) => {
  for (const written of ['abc', '12 34', '1 234 5', '1.2.3', '1,5,6', '12,', ',5', '1e5', '0x10', '', '1 234,56,7', '₽']) t.equal(readNumber(written), null, JSON.stringify(written))
  t.match(convertValue('number', 'много'), { ok: false, why: { fault: 'not_number', raw: 'много' } })
})

t.test('property: any amount written with any grouping and decimal mark reads back as itself', async (t) => {
  const group = (digits: string, mark: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, mark)
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 99 }), fc.boolean(),
    fc.constantFrom(['\u00a0', ','], [' ', ','], ['\u202f', ','], [',', '.'], ['.', ','], ["'", '.'], ['', ','], ['', '.']),
    fc.constantFrom('', ' ₽', '$', ' руб.', '€'),
    (whole, cents, negative, [mark, decimal], currency) => {
      const written = `${negative ? '-' : ''}${group(String(whole), mark)}${decimal}${String(cents).padStart(2, '0')}`
      const text = currency === '$' || currency === '€' ? `${currency}${written}` : `${written}${currency}`
      const expected = (negative ? -1 : 1) * (whole + cents / 100)
      const read = readNumber(text)
      return read !== null && Math.abs(read - expected) < 1e-6
    }
  ), { numRuns: 2000 })
})
