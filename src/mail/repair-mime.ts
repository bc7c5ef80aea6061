// Malformed MIME that mail clients (and Python's email package) still read, made readable for
// mailparser, which otherwise reads these parts as empty or as garbage:
//   - a part whose header block has no blank line after it (the first body line is no header);
//   - `Content-Type: text` without a subtype, or an empty Content-Type, on a part (read as text/plain);
//   - a text part labelled base64 whose body is plain text (words, spaces, `=` signs).
// Only the copy handed to the parser changes: DKIM sees the bytes as sent. The walk looks at the
// header block after each boundary line and at most the first kilobyte of a base64 text body, so
// its cost does not grow with the size of attachments.

const MAX_BOUNDARIES = 200
const MAX_PART_HEADER = 16 * 1024
const BASE64_PROBE = 1024

interface Edit { at: number, end: number, text: string }

function boundariesOf (raw: Buffer): string[] {
  const found = new Set<string>()
  let at = raw.indexOf('boundary=')
  while (at !== -1 && found.size < MAX_BOUNDARIES) {
    const tail = raw.subarray(at + 9, at + 9 + 200).toString('latin1')
    const match = /^(?:"([^"\r\n]+)"|([^\s;"]+))/.exec(tail)
    const value = match?.[1] ?? match?.[2]
    if (value !== undefined) found.add(value)
    at = raw.indexOf('boundary=', at + 9)
  }
  return [...found]
}

const HEADER_LINE = /^[!-9;-~]+[ \t]*:/
const CONTINUATION = /^[ \t]/

/** The header block starting at `start`: its lines, where it ends, and whether a blank line ended it. */
function headerBlock (raw: Buffer, start: number): { lines: Array<{ at: number, text: string }>, end: number, blank: boolean } {
  const lines: Array<{ at: number, text: string }> = []
  let at = start
  while (at < raw.length && at - start < MAX_PART_HEADER) {
    const nl = raw.indexOf(0x0a, at)
    const lineEnd = nl === -1 ? raw.length : nl + 1
    const text = raw.subarray(at, lineEnd).toString('latin1').replace(/\r?\n$/, '')
    if (text === '') return { lines, end: lineEnd, blank: true }
    if (!HEADER_LINE.test(text) && !(CONTINUATION.test(text) && lines.length > 0)) return { lines, end: at, blank: false }
    lines.push({ at, text })
    at = lineEnd
  }
  return { lines, end: at, blank: false }
}

function isBase64Body (raw: Buffer, start: number): boolean {
  const probe = raw.subarray(start, start + BASE64_PROBE).toString('latin1')
  for (const line of probe.split(/\r?\n/).slice(0, -1)) {
    if (line.startsWith('--')) break
    if (!/^[A-Za-z0-9+/]*={0,2}\s*$/.test(line)) return false
  }
  return true
}

function repairPart (raw: Buffer, start: number, edits: Edit[]): void {
  const block = headerBlock(raw, start)
  const lineEnd = raw[raw.indexOf(0x0a, start) - 1] === 0x0d ? '\r\n' : '\n'
  const names = block.lines.map((l) => l.text.toLowerCase())
  const typeIndex = names.findIndex((n) => n.startsWith('content-type'))
  const type = typeIndex === -1 ? null : (block.lines[typeIndex]?.text ?? '').replace(/^[^:]*:/, '').trim().toLowerCase()
  const typeLine = typeIndex === -1 ? undefined : block.lines[typeIndex]
  const nextIsContinuation = (i: number): boolean => CONTINUATION.test(block.lines[i + 1]?.text ?? '')
  if (typeLine !== undefined && !nextIsContinuation(typeIndex) && (type === '' || /^text\s*(;|$)/.test(type ?? ''))) {
    // `text` alone, or nothing: RFC 2045 says a part without a usable type is text/plain.
    const params = (type ?? '').replace(/^text\s*/, '')
    edits.push({ at: typeLine.at, end: typeLine.at + typeLine.text.length, text: `Content-Type: text/plain${params}` })
  }
  const encodingIndex = names.findIndex((n) => /^content-transfer-encoding\s*:\s*base64\s*$/.test(n))
  const encodingLine = encodingIndex === -1 ? undefined : block.lines[encodingIndex]
  const isText = type === null || type === '' || type.startsWith('text')
  if (encodingLine !== undefined && isText && block.blank && !isBase64Body(raw, block.end)) {
    edits.push({ at: encodingLine.at, end: encodingLine.at + encodingLine.text.length, text: 'Content-Transfer-Encoding: 8bit' })
  }
  if (!block.blank && block.lines.length > 0) edits.push({ at: block.end, end: block.end, text: lineEnd })
}

/** The message with its malformed parts mended, or the same buffer when nothing needed mending. */
export function repairMime (raw: Buffer): Buffer {
  const edits: Edit[] = []
  // The top-level header block: only its type and encoding (a missing blank line there is a
  // message without a body, not a mistake to mend).
  if (headerBlock(raw, 0).blank) repairPart(raw, 0, edits)
  for (const boundary of boundariesOf(raw)) {
    const marker = Buffer.from(`\n--${boundary}`, 'latin1')
    let at = raw.indexOf(marker)
    while (at !== -1) {
      const after = at + marker.length
      const closing = raw[after] === 0x2d && raw[after + 1] === 0x2d
      const nl = raw.indexOf(0x0a, after)
      if (!closing && nl !== -1) repairPart(raw, nl + 1, edits)
      at = raw.indexOf(marker, after)
    }
  }
  if (edits.length === 0) return raw
  edits.sort((a, b) => a.at - b.at)
  const pieces: Buffer[] = []
  let from = 0
  for (const edit of edits) {
    if (edit.at < from) continue
    pieces.push(raw.subarray(from, edit.at), Buffer.from(edit.text, 'latin1'))
    from = edit.end
  }
  pieces.push(raw.subarray(from))
  return Buffer.concat(pieces)
}
