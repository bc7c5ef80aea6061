// Providers that post parsed fields give headers and a text body; the pipeline reads RFC 822.
// The rebuilt message carries the original headers (so threading, RFC 3834 and From checks see
// them) and the text re-encoded as UTF-8. Its DKIM signatures cannot verify, and it says so.

const DROPPED = new Set(['content-type', 'content-transfer-encoding', 'mime-version'])

export function rebuildMessage (headers: Array<[string, string]>, body: { text?: string, html?: string }): Buffer {
  const lines = headers
    .filter(([name]) => !DROPPED.has(name.toLowerCase()))
    .map(([name, value]) => `${name}: ${value.replace(/\r?\n(?![ \t])/g, '\r\n ')}`)
  const isHtml = body.text === undefined && body.html !== undefined
  lines.push('MIME-Version: 1.0', `Content-Type: text/${isHtml ? 'html' : 'plain'}; charset=utf-8`, 'Content-Transfer-Encoding: 8bit')
  const content = (isHtml ? body.html : body.text) ?? ''
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), Buffer.from('\r\n\r\n'), Buffer.from(content.replace(/\r?\n/g, '\r\n'), 'utf8')])
}

/** Header lines of a raw header block, unfolded: [name, value] with the original case. */
export function headerPairs (block: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && pairs.length > 0) {
      const last = pairs[pairs.length - 1] as [string, string]
      last[1] += ` ${line.trim()}`
    } else if (line.includes(':')) {
      pairs.push([line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()])
    }
  }
  return pairs
}
