import iconv from 'iconv-lite'
import { decodeGuessed } from '../text/eight-bit.js'

// A file name written as raw 8-bit bytes (`filename="Накладная.pdf"` in windows-1251, without
// RFC 2231 or RFC 2047 encoding, as some Russian mail programs and scanners do) reaches us as
// those bytes read one character each (`Íàêëàäíàÿ.pdf`). Such a name is read again in the charset
// the part or the message declares, or, without one, in the charset its bytes suggest.

/**
 * The name as its sender wrote it, without format characters: a bidirectional override
 * (U+202A–U+202E, U+2066–U+2069) or a zero-width character would make "invoice\u202Efdp.exe"
 * show as "invoiceexe.pdf" in a reply, a bucket or the robot's in_Attachments.
 */
export function readableName (name: string, declaredCharset: string | null): string {
  return decoded(name, declaredCharset).replace(/\p{Cf}+/gu, '')
}

function decoded (name: string, declaredCharset: string | null): string {
  // Only characters U+0080–U+00FF and ASCII: the shape of bytes read one by one.
  if (!/[\u0080-\u00ff]/.test(name) || [...name].some((c) => c.charCodeAt(0) > 0xff)) return name
  const bytes = Buffer.from(name, 'latin1')
  const declared = declaredCharset?.trim().toLowerCase() ?? ''
  if (declared !== '' && !/^(us-ascii|utf-?8|iso-8859-1|latin1)$/.test(declared) && iconv.encodingExists(declared)) return iconv.decode(bytes, declared)
  return decodeGuessed(bytes)
}
