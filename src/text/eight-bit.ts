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

/**
 * A Cyrillic word is a run of bytes 0xC0–0xFF in both Cyrillic code pages, while an accented letter
 * of a Western word in windows-1252 mostly stands alone between ASCII letters ("Müller", "café"):
 * most high bytes next to another one means Cyrillic. Between the two Cyrillic pages, the case of
 * the letters tells: windows-1251 puts lower case at 0xE0–0xFF, KOI8-R at 0xC0–0xDF, and Russian
 * text is mostly lower case.
 */
export function guessEightBit (bytes: Uint8Array): EightBitCharset {
  let high = 0
  let paired = 0
  let upperHalf = 0
  let lowerHalf = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number
    if (byte < 0x80) continue
    high++
    if ((bytes[i - 1] ?? 0) >= 0xa8 || (bytes[i + 1] ?? 0) >= 0xa8) paired++
    if (byte >= 0xe0) upperHalf++
    else if (byte >= 0xc0) lowerHalf++
  }
  if (high === 0 || paired / high <= 0.5) return 'windows-1252'
  return lowerHalf > upperHalf ? 'koi8-r' : 'windows-1251'
}

/** Bytes as text: valid UTF-8 as such, else the guessed 8-bit code page. */
export function decodeGuessed (bytes: Uint8Array): string {
  if (isUtf8(bytes)) return Buffer.from(bytes).toString('utf8')
  return iconv.decode(Buffer.from(bytes), guessEightBit(bytes))
}
