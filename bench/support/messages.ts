import { randomBytes } from 'node:crypto'
import { dkimVerify } from 'mailauth'
import { buildMessage, fakeDns, signMessage, type DkimKey } from '../../tests/support/mail.js'

/** The three shapes of mail the benchmark sends: what users really send, small to large. */
export type MessageKind = 'small' | 'html' | 'attachment'
export const MESSAGE_KINDS: MessageKind[] = ['small', 'html', 'attachment']

export interface Letter { from: string, to: string, subject: string, command: string }

const HTML_BYTES = 200 * 1024
const ATTACHMENT_BYTES = 5 * 1024 * 1024

function base64Lines (data: Buffer): string {
  return data.toString('base64').replace(/.{76}/g, '$&\r\n')
}

// An Outlook-like HTML part: a styled table of figures, the bulk of a real 200 KB newsletter-ish mail.
function htmlPart (command: string): string {
  const rows: string[] = []
  let size = 0
  for (let i = 0; size < HTML_BYTES; i++) {
    const row = `<tr><td style="padding:2px 6px;font-family:Calibri,sans-serif">Region ${i % 17}</td><td style="text-align:right">${(i * 7919) % 100000}.00</td><td>${randomBytes(6).toString('hex')}</td></tr>\n`
    rows.push(row)
    size += row.length
  }
  return `<html><body><pre>${command}</pre><table>\n${rows.join('')}</table></body></html>`
}

/**
 * One message of `kind`, unique Message-ID, DKIM-signed with `key` as the sender's server would.
 * mailauth 4.13 signs about one message in a thousand with a signature its own verifier calls
 * "bad signature"; such a message is built again, so every message the benchmark sends is one
 * mailrun must accept.
 */
export async function benchMessage (kind: MessageKind, letter: Letter, key: DkimKey, tag: string): Promise<Buffer> {
  for (;;) {
    const raw = await signedMessage(kind, letter, key, tag)
    const verified = await dkimVerify(raw, { resolver: fakeDns([key]) } as unknown as Parameters<typeof dkimVerify>[1])
    if (verified.results?.[0]?.status?.result === 'pass') return raw
  }
}

async function signedMessage (kind: MessageKind, letter: Letter, key: DkimKey, tag: string): Promise<Buffer> {
  const messageId = `<bench-${tag}-${randomBytes(6).toString('hex')}@${key.domain}>`
  const base = { from: letter.from, to: letter.to, subject: letter.subject, messageId }
  if (kind === 'small') return await signMessage(buildMessage({ ...base, body: letter.command }), key)
  const boundary = `=_mailrun_bench_${randomBytes(6).toString('hex')}`
  const text = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', letter.command]
  const second = kind === 'html'
    ? ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', base64Lines(Buffer.from(htmlPart(letter.command)))]
    : ['Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="ledger.xlsx"', 'Content-Disposition: attachment; filename="ledger.xlsx"', 'Content-Transfer-Encoding: base64', '', base64Lines(randomBytes(ATTACHMENT_BYTES))]
  const body = [`--${boundary}`, ...text, `--${boundary}`, ...second, `--${boundary}--`, ''].join('\r\n')
  const contentType = `multipart/${kind === 'html' ? 'alternative' : 'mixed'}; boundary="${boundary}"`
  return await signMessage(buildMessage({ ...base, body, contentType }), key)
}
