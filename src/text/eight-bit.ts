import iconv from 'iconv-lite'

// Text that arrives as bytes without a trustworthy label (a CSV saved by Excel, a file name a mail
// program wrote as raw 8-bit bytes) is read the way its bytes suggest: UTF-8 when they are valid
// UTF-8, else one of the 8-bit code pages that mail from Russian and Western desktops uses.

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function isUtf8 (bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

export type EightBitCharset = 'windows-1251' | 'koi8-r' | 'windows-1252'

// The letters most used in Russian, lower case: text read in the right code page is full of them.
const FREQUENT = new Set('оеаинтсрвлкмдпуяыьгзбчй')

/** How Russian the text reads: frequent letters, and words that start upper case and go on lower case (Иванов, not иВАНОВ). */
function russianScore (text: string): number {
  let score = 0
  let previous = ''
  for (const ch of text) {
    const lower = ch.toLowerCase()
    if (FREQUENT.has(lower)) score++
    const isCyrillic = /[а-яё]/i.test(ch)
    if (isCyrillic && /[а-яё]/i.test(previous)) {
      const wasUpper = previous !== previous.toLowerCase()
      const isUpper = ch !== lower
      if (wasUpper && !isUpper) score += 2
      if (!wasUpper && isUpper) score -= 3
    }
    previous = ch
  }
  return score
}

/**
 * A Cyrillic word is a run of bytes 0xC0–0xFF in both Cyrillic code pages, while an accented letter
 * of a Western word in windows-1252 mostly stands alone between ASCII letters ("Müller", "café"):
 * most high bytes next to another one means Cyrillic. Between the two Cyrillic pages (each reads
 * the other's letters as other letters of the same alphabet, cases swapped), the reading that looks
 * more like Russian wins.
 */
export function guessEightBit (bytes: Uint8Array): EightBitCharset {
  let high = 0
  let paired = 0
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) < 0x80) continue
    high++
    if ((bytes[i - 1] ?? 0) >= 0xa8 || (bytes[i + 1] ?? 0) >= 0xa8) paired++
  }
  if (high === 0 || paired / high <= 0.5) return 'windows-1252'
  const sample = Buffer.from(bytes.subarray(0, 64 * 1024))
  return russianScore(iconv.decode(sample, 'koi8-r')) > russianScore(iconv.decode(sample, 'windows-1251')) ? 'koi8-r' : 'windows-1251'
}

/** Bytes as text: valid UTF-8 as such, else the guessed 8-bit code page. */
export function decodeGuessed (bytes: Uint8Array): string {
  if (isUtf8(bytes)) return Buffer.from(bytes).toString('utf8')
  return iconv.decode(Buffer.from(bytes), guessEightBit(bytes))
}
