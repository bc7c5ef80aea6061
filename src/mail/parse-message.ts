import iconv from 'iconv-lite'
import type { Readable } from 'node:stream'
import { pacedStream } from '../async/paced-stream.js'
import type { AddressObject, HeaderLines, Headers, MailParser as MailParserClass } from 'mailparser'
import { headerEnd, normalizeMessageId } from './header-block.js'
import { readableName } from './readable-name.js'
import { guessEightBit } from '../text/eight-bit.js'
import { repairMime } from './repair-mime.js'

// mailparser is in maintenance mode: everything else in mailrun sees only this module's
// ParsedMessage, so the parser can be swapped without touching the pipeline.

export interface MailAddress { address: string, name: string }

export interface ParsedMessage {
  messageId: string | null
  /** Every mailbox in From (a group or several mailboxes make the sender ambiguous). */
  from: MailAddress[]
  fromIsGroup: boolean
  fromHeaderCount: number
  subject: string
  /** The text part, as the parser gives it (for an HTML-only message at the top, its text rendering). */
  text: string
  /** The HTML part, where there is one: an HTML-only message inside multipart/related has no text. */
  html: string | null
  date: Date | null
  inReplyTo: string | null
  references: string[]
  /** Lower-cased header name → raw values, in order. */
  headers: Map<string, string[]>
  contentType: string
  /** The attachments, described; their bytes are kept only when asked for (see parseMessage's `keep`). */
  attachments: AttachmentInfo[]
}

export interface AttachmentInfo {
  /** Position among the message's attachments, from 0. */
  index: number
  filename: string | null
  /** Lower-cased, without parameters. */
  contentType: string
  charset: string | null
  size: number
  /** Shown inside the text (a signature's logo, referenced by Content-ID), not attached by the sender. */
  inline: boolean
}

export interface Attachment extends AttachmentInfo { content: Buffer }

/** Which attachments to keep in memory, decided from each one's headers, with a bound on the bytes kept. */
export interface KeepAttachments { wanted: (info: Omit<AttachmentInfo, 'size'>) => boolean, maxBytes: number }

export interface ParseLimits {
  maxHeaderBytes: number
  maxMimeParts: number
}

export const defaultParseLimits: ParseLimits = { maxHeaderBytes: 256 * 1024, maxMimeParts: 200 }

export class UnreadableMessage extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UnreadableMessage'
  }
}

function addresses (value: AddressObject | AddressObject[] | undefined): { list: MailAddress[], group: boolean } {
  const list: MailAddress[] = []
  let group = false
  for (const object of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
    for (const entry of object.value) {
      if (entry.group !== undefined) {
        group = true
        for (const member of entry.group) list.push({ address: member.address ?? '', name: member.name ?? '' })
      } else {
        list.push({ address: entry.address ?? '', name: entry.name ?? '' })
      }
    }
  }
  return { list, group }
}

// Hostile messages (huge header blocks, thousands of nested parts) are refused before the
// parser walks them, so one message cannot hold the event loop.
function checkLimits (raw: Buffer, limits: ParseLimits): void {
  const end = headerEnd(raw)
  if ((end === -1 ? raw.length : end) > limits.maxHeaderBytes) {
    throw new UnreadableMessage(`its header block is larger than ${limits.maxHeaderBytes} bytes`)
  }
  let parts = 0
  let at = raw.indexOf('boundary=')
  while (at !== -1) {
    if (++parts > limits.maxMimeParts) throw new UnreadableMessage(`it has more than ${limits.maxMimeParts} nested MIME parts`)
    at = raw.indexOf('boundary=', at + 9)
  }
}

/** Lines ended by CR alone: no mail standard allows it, and parsers read it as one long line. */
function checkLineEnds (raw: Buffer): void {
  const head = raw.subarray(0, Math.min(raw.length, 8192))
  const cr = head.indexOf(0x0d)
  if (cr !== -1 && head.indexOf(0x0a) === -1 && head.indexOf(0x0d, cr + 1) !== -1) {
    throw new UnreadableMessage('its lines end with a bare CR (carriage return without line feed); mail lines must end with CRLF — check the program that wrote or relayed it')
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The first 8-bit charset the message declares (for its text, mostly), other than UTF-8 and ASCII. */
function declaredCharset (raw: Buffer): string | null {
  const declared = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(raw.subarray(0, Math.min(raw.length, 64 * 1024)).toString('latin1'))?.[1]
  return declared !== undefined && !/^(utf-?8|us-ascii)$/i.test(declared) && iconv.encodingExists(declared) ? declared : null
}

/**
 * Header bytes that are not UTF-8 (a windows-1251 Subject written without RFC 2047 encoding, as
 * some old clients do) are read in the charset the message declares for its text, as mail
 * clients read them. Only the copy handed to the parser changes: DKIM sees the bytes as sent.
 */
export function readableHeaders (raw: Buffer): Buffer {
  const end = headerEnd(raw)
  const block = raw.subarray(0, end === -1 ? raw.length : end)
  if (!block.some((byte) => byte > 0x7f)) return raw
  try {
    utf8.decode(block)
    return raw
  } catch {}
  // Without a declared charset, the bytes tell (windows-1251, KOI8-R or windows-1252).
  const charset = declaredCharset(raw) ?? guessEightBit(block)
  return Buffer.concat([Buffer.from(iconv.decode(block, charset), 'utf8'), raw.subarray(block.length)])
}

interface Streamed { headers: Headers, headerLines: HeaderLines, text: string | undefined, html: string | undefined, attachments: Attachment[] }

interface AttachmentData {
  type: 'attachment'
  content: Readable
  release?: () => void
  filename?: string
  contentType?: string
  contentDisposition?: string
  contentId?: string
  related?: boolean
  headers?: Map<string, unknown>
}

/** The attachment is larger than the bytes mailrun keeps for it. */
export class AttachmentTooLarge extends Error {
  constructor (readonly filename: string | null, readonly maxBytes: number) {
    super(`the attachment ${filename ?? ''} is larger than ${maxBytes} bytes`)
  }
}

/**
 * The headers and the text, read as a stream: attachments are counted and drained, and kept only
 * when `keep` wants them (a 25 MB attachment would otherwise sit in memory decoded for every
 * message, though only spreadsheets sent to a queue robot are read), and the bytes are fed in
 * 64 KiB pieces with a turn of the event loop between them (async/paced-stream.ts) so a large
 * message never holds the event loop in one go; 1 MB pieces left ~20 MB of decoding garbage per
 * message before the collector caught up.
 */
/** mailparser, loaded with the first message: an instance that has not received mail does not carry it. */
let mailParser: typeof MailParserClass | undefined

async function streamParse (raw: Buffer, keep: KeepAttachments | null, nameCharset: string | null): Promise<Streamed> {
  mailParser ??= (await import('mailparser')).MailParser
  const MailParser = mailParser
  return await new Promise((resolve, reject) => {
    const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true })
    let headers: Headers = new Map()
    let headerLines: HeaderLines = []
    let text: string | undefined
    let html: string | undefined
    const attachments: Attachment[] = []
    let kept = 0
    let settled = false
    const fail = (error: Error): void => { if (!settled) { settled = true; reject(error) } }
    parser.on('headers', (h: Headers) => { headers = h; headerLines = parser.headerLines === false ? [] : parser.headerLines })
    parser.on('data', (data: { type: 'text', text?: string, html?: string | false } | AttachmentData) => {
      if (data.type === 'text') { text = data.text; html = typeof data.html === 'string' ? data.html : undefined; return }
      const contentType = data.headers?.get('content-type') as { value?: string, params?: Record<string, string> } | undefined
      const info: Attachment = {
        index: attachments.length,
        filename: data.filename === undefined ? null : readableName(data.filename, contentType?.params?.charset ?? nameCharset),
        contentType: (data.contentType ?? contentType?.value ?? 'application/octet-stream').toLowerCase(),
        charset: contentType?.params?.charset ?? null,
        size: 0,
        inline: data.related === true || (data.contentDisposition === 'inline' && data.contentId !== undefined),
        content: Buffer.alloc(0)
      }
      attachments.push(info)
      const wanted = keep?.wanted(info) === true
      const chunks: Buffer[] = []
      data.content.on('data', (chunk: Buffer) => {
        info.size += chunk.length
        if (!wanted) return
        kept += chunk.length
        if (kept > (keep?.maxBytes ?? 0)) { fail(new AttachmentTooLarge(info.filename, keep?.maxBytes ?? 0)); return }
        chunks.push(chunk)
      })
      data.content.on('end', () => {
        if (wanted) info.content = Buffer.concat(chunks)
        data.release?.()
      })
    })
    parser.once('error', fail)
    parser.once('end', () => { if (!settled) { settled = true; resolve({ headers, headerLines, text, html, attachments }) } })
    pacedStream(raw).pipe(parser)
  })
}

export async function parseMessage (raw: Buffer, limits: ParseLimits = defaultParseLimits): Promise<ParsedMessage> {
  return (await parseWithAttachments(raw, null, limits)).message
}

/** The message, and the bytes of the attachments `keep` wants. */
export async function parseWithAttachments (raw: Buffer, keep: KeepAttachments | null, limits: ParseLimits = defaultParseLimits): Promise<{ message: ParsedMessage, kept: Attachment[] }> {
  checkLimits(raw, limits)
  checkLineEnds(raw)
  let parsed: Streamed
  try {
    parsed = await streamParse(repairMime(readableHeaders(raw)), keep, declaredCharset(raw))
  } catch (error) {
    if (error instanceof AttachmentTooLarge) throw error
    throw new UnreadableMessage(`it is not a readable email (${(error as Error).message})`)
  }
  const value = <T>(name: string): T | undefined => parsed.headers.get(name) as T | undefined
  const mail = {
    headerLines: parsed.headerLines,
    from: value<AddressObject>('from'),
    references: value<string | string[]>('references'),
    messageId: value<string>('message-id'),
    subject: value<string>('subject'),
    text: parsed.text,
    date: value<Date>('date'),
    inReplyTo: value<string>('in-reply-to')
  }
  const headers = new Map<string, string[]>()
  for (const { key, line } of mail.headerLines) {
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim()
    headers.set(key, [...(headers.get(key) ?? []), value])
  }
  const from = addresses(mail.from)
  const references = mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : [mail.references]
  const message: ParsedMessage = {
    messageId: normalizeMessageId(mail.messageId),
    from: from.list,
    fromIsGroup: from.group,
    fromHeaderCount: headers.get('from')?.length ?? 0,
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    html: parsed.html ?? null,
    date: mail.date ?? null,
    inReplyTo: mail.inReplyTo ?? null,
    references,
    headers,
    contentType: (headers.get('content-type')?.[0] ?? 'text/plain').toLowerCase(),
    attachments: parsed.attachments.map(({ content, ...info }) => info)
  }
  return { message, kept: parsed.attachments.filter((a) => keep?.wanted(a) === true) }
}
