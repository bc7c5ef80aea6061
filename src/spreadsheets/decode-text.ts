import iconv from 'iconv-lite'
import { guessEightBit, isUtf8 } from '../text/eight-bit.js'

// CSV files come in whatever encoding the sender's program chose: Excel saves "CSV UTF-8" with a
// byte order mark, plain "CSV" in the system's ANSI code page (windows-1251 in Russian Windows,
// windows-1252 in Western Europe), "Unicode text" as UTF-16 with tabs. A charset named by the
// attachment's Content-Type wins; otherwise the bytes decide.

export function decodeText (bytes: Buffer, declaredCharset: string | null): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8')
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return iconv.decode(bytes.subarray(2), 'utf-16le')
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return iconv.decode(bytes.subarray(2), 'utf-16be')
  const declared = declaredCharset?.trim().toLowerCase() ?? ''
  // Mail programs often label any attachment us-ascii or utf-8 without looking; bytes that are not
  // UTF-8 prove such a label wrong.
  if (declared !== '' && !/^(us-ascii|utf-?8)$/.test(declared) && iconv.encodingExists(declared)) return iconv.decode(bytes, declared)
  if (isUtf8(bytes)) return bytes.toString('utf8')
  return iconv.decode(bytes, guessEightBit(bytes))
}
