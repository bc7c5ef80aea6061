// Reading the header block of a raw message without parsing the body: enough to find the
// Message-ID (the dedupe key) before anything else happens, and to bound the header size.

/** Bytes before the blank line that ends the headers, or -1 when there is none. */
export function headerEnd (raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n')
  const lf = raw.indexOf('\n\n')
  if (crlf === -1) return lf
  if (lf === -1) return crlf
  return Math.min(crlf, lf)
}

/** Unfolded header lines as [lower-cased name, value] pairs, in order. */
export function readHeaders (raw: Buffer, maxBytes: number): Array<[string, string]> {
  const end = headerEnd(raw)
  const block = raw.subarray(0, end === -1 ? Math.min(raw.length, maxBytes) : Math.min(end, maxBytes)).toString('latin1')
  const headers: Array<[string, string]> = []
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1] as [string, string]
      last[1] += ` ${line.trim()}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()])
  }
  return headers
}

/** The Message-ID normalised for comparison: angle brackets kept, case of the domain ignored. */
export function normalizeMessageId (value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null
  const match = /<([^<>\s]+)>/.exec(value) ?? /^\s*([^<>\s]+@[^<>\s]+)\s*$/.exec(value)
  if (match === null) return null
  const id = match[1] as string
  const at = id.lastIndexOf('@')
  return at === -1 ? `<${id}>` : `<${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}>`
}
