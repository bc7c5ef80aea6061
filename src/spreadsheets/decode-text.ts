import iconv from 'iconv-lite'

// CSV files come in whatever encoding the sender's program chose: Excel saves "CSV UTF-8" with a
// byte order mark, plain "CSV" in the system's ANSI code page (windows-1251 in Russian Windows,
// windows-1252 in Western Europe), "Unicode text" as UTF-16 with tabs. A charset named by the
// attachment's Content-Type wins; otherwise the bytes decide.

const utf8 = new TextDecoder('utf-8', { fatal: true })

function isUtf8 (bytes: Buffer): boolean {
  try {
    utf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

/**
 * Between the two ANSI code pages: a Cyrillic word in windows-1251 is a run of bytes 0xC0–0xFF,
 * while an accented letter of a Western word in windows-1252 mostly stands alone between ASCII
 * letters ("Müller", "café"). Most high bytes next to another one: Cyrillic.
 */
function guessAnsi (bytes: Buffer): 'windows-1251' | 'windows-1252' {
  let high = 0
  let paired = 0
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) < 0x80) continue
    high++
    if ((bytes[i - 1] ?? 0) >= 0xa8 || (bytes[i + 1] ?? 0) >= 0xa8) paired++
  }
  return high > 0 && paired / high > 0.5 ? 'windows-1251' : 'windows-1252'
}

export function decodeText (bytes: Buffer, declaredCharset: string | null): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8')
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return iconv.decode(bytes.subarray(2), 'utf-16le')
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return iconv.decode(bytes.subarray(2), 'utf-16be')
  const declared = declaredCharset?.trim().toLowerCase() ?? ''
  // Mail programs often label any attachment us-ascii or utf-8 without looking; bytes that are not
  // UTF-8 prove such a label wrong.
  if (declared !== '' && !/^(us-ascii|utf-?8)$/.test(declared) && iconv.encodingExists(declared)) return iconv.decode(bytes, declared)
  if (isUtf8(bytes)) return bytes.toString('utf8')
  return iconv.decode(bytes, guessAnsi(bytes))
}
