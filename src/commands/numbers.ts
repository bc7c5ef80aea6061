// Numbers as spreadsheets and people write them: `1 234,56` (with the no-break space Russian Excel
// writes, or a narrow one), `1,234.56`, `1.234,56`, `1'234.56`, `2 000 000,00 ₽`, `$42`, `-3,5`.
// A single separator is the decimal one (`3,5` and `3.5` are both three and a half); when both
// appear, the last is the decimal one and the other must group thousands.

const CURRENCY = /^(?:[$€£¥₽₸₴]|руб\.?|р\.|rub|usd|eur)\s*|\s*(?:[$€£¥₽₸₴]|руб\.?|р\.|rub|usd|eur)$/giu
const GROUP_MARKS = /[\s\u00a0\u202f\u2009'’]+/gu
const HAS_GROUP_MARK = /[\s\u00a0\u202f\u2009'’]/u

function groupsOfThree (integer: string, separator: string): boolean {
  const groups = integer.split(separator)
  return groups.length > 1 && /^\d{1,3}$/.test(groups[0] ?? '') && groups.slice(1).every((g) => /^\d{3}$/.test(g))
}

/** Digits with a decimal point, from text whose only marks are `.` and `,`; null when they do not fit. */
function plainDigits (text: string): string | null {
  if (/^\d+$/.test(text)) return text
  if (/^\d+[.,]\d+$/.test(text)) return text.replace(',', '.')
  const decimal = text.lastIndexOf('.') > text.lastIndexOf(',') ? '.' : ','
  const at = text.lastIndexOf(decimal)
  // One decimal mark after the groups (1,234.56; 1.234,56), or none (1,234,567; 1.234.567).
  const hasDecimal = text.indexOf(decimal) === at && /^\d+$/.test(text.slice(at + 1)) && /[.,]/.test(text.slice(0, at))
  const integer = hasDecimal ? text.slice(0, at) : text
  const separator = hasDecimal ? (decimal === '.' ? ',' : '.') : decimal
  if (!groupsOfThree(integer, separator)) return null
  return integer.split(separator).join('') + (hasDecimal ? `.${text.slice(at + 1)}` : '')
}

/** The number written, or null when it is not one. */
export function readNumber (written: string): number | null {
  let text = written.trim().replace(CURRENCY, '').trim()
  let sign = ''
  if (/^[+\-−]/u.test(text)) {
    sign = text.startsWith('+') ? '' : '-'
    text = text.slice(1).trim()
  }
  let digits: string | null
  if (HAS_GROUP_MARK.test(text)) {
    // Spaces and apostrophes group thousands; then a comma or a point is the decimal mark.
    const match = /^(.*?)(?:[.,](\d+))?$/u.exec(text)
    const integer = (match?.[1] ?? '').replace(GROUP_MARKS, ' ')
    digits = groupsOfThree(integer, ' ') ? integer.replace(/ /g, '') + (match?.[2] !== undefined ? `.${match[2]}` : '') : null
  } else {
    digits = plainDigits(text)
  }
  if (digits === null) return null
  const value = Number(sign + digits)
  return Number.isFinite(value) ? value : null
}
