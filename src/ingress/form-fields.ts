import type { FastifyRequest } from 'fastify'
import type {} from '@fastify/multipart'
import iconv from 'iconv-lite'
import { errors } from '../errors.js'

/**
 * Form fields as bytes. Field names are case-sensitive (Mailgun posts `sender`, the envelope,
 * beside `Sender`, the header) and may repeat (every Received header is its own field).
 */
export class FormFields {
  readonly #fields = new Map<string, Buffer[]>()

  add (name: string, value: Buffer): void {
    this.#fields.set(name, [...(this.#fields.get(name) ?? []), value])
  }

  bytes (name: string): Buffer | undefined {
    return this.#fields.get(name)?.[0]
  }

  text (name: string, charset = 'utf-8'): string | undefined {
    const value = this.bytes(name)
    return value === undefined ? undefined : decodeText(value, charset)
  }

  has (name: string): boolean {
    return this.#fields.has(name)
  }

  names (): string[] {
    return [...this.#fields.keys()]
  }
}

/**
 * Bytes in a declared charset; an unknown charset falls back to UTF-8 rather than failing.
 * iconv-lite, not TextDecoder: Node 20's TextDecoder reads windows-1252 as Latin-1 (0x80 is not €).
 */
export function decodeText (bytes: Buffer, charset: string): string {
  const name = charset.trim().toLowerCase()
  return iconv.decode(bytes, name !== '' && iconv.encodingExists(name) ? name : 'utf-8')
}

function hex (byte: number | undefined): number {
  if (byte === undefined) return -1
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57
  return -1
}

/** Percent-decoding to bytes: a %XX that is not UTF-8 stays the byte it names. */
function decodeComponent (input: Buffer): Buffer {
  const out = Buffer.alloc(input.length)
  let length = 0
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number
    if (byte === 0x2b) { out[length++] = 0x20; continue }
    if (byte === 0x25) {
      const high = hex(input[i + 1])
      const low = hex(input[i + 2])
      if (high >= 0 && low >= 0) {
        out[length++] = high * 16 + low
        i += 2
        continue
      }
    }
    out[length++] = byte
  }
  return out.subarray(0, length)
}

export function parseUrlEncoded (body: Buffer): FormFields {
  const fields = new FormFields()
  let start = 0
  while (start <= body.length) {
    let end = body.indexOf(0x26, start)
    if (end === -1) end = body.length
    const pair = body.subarray(start, end)
    if (pair.length > 0) {
      const equals = pair.indexOf(0x3d)
      const name = decodeComponent(equals === -1 ? pair : pair.subarray(0, equals)).toString('utf8')
      fields.add(name, equals === -1 ? Buffer.alloc(0) : decodeComponent(pair.subarray(equals + 1)))
    }
    start = end + 1
  }
  return fields
}

/** Room for the fields around the message in a provider's post (headers, envelope, signature). */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024

/**
 * Multipart fields as bytes: @fastify/multipart decodes fields as latin1 (configured in the
 * ingress plugin), which maps every byte to one char, so Buffer.from(value, 'latin1') restores
 * them exactly. Truncation, which multipart reports but does not refuse, is refused here.
 */
export async function readMultipart (request: FastifyRequest, limitBytes: number): Promise<FormFields> {
  // Multipart is read from the raw request, past Fastify's bodyLimit, and a chunked post has no
  // Content-Length to refuse up front: count every byte, and past the message limit plus room for
  // the form's other fields, stop reading at once.
  const cap = limitBytes + MULTIPART_OVERHEAD_BYTES
  let received = 0
  let refuse: (error: Error) => void = () => {}
  const overCap = new Promise<never>((_resolve, reject) => { refuse = reject })
  const count = (chunk: Buffer): void => {
    received += chunk.length
    if (received <= cap) return
    request.raw.off('data', count)
    request.raw.unpipe()
    request.raw.pause()
    refuse(new errors.PayloadTooLarge(`the post is larger than ${limitBytes} bytes (MAILRUN_MAX_MESSAGE_BYTES) plus ${MULTIPART_OVERHEAD_BYTES} bytes for its other fields`))
  }
  // Attached in the same tick as the multipart parser's pipe (on the first step of the parts
  // iterator), so both see every chunk.
  request.raw.on('data', count)
  const reading = readParts(request, limitBytes)
  // Once refused, the abandoned parser ends when the connection closes; its error is not news.
  reading.catch(() => {})
  try {
    return await Promise.race([reading, overCap])
  } catch (error) {
    // Limits keep their own 413s; anything else the parser chokes on is the sender's malformed
    // post (no boundary, a broken part), never a fault of ours.
    const code = (error as { code?: string }).code ?? ''
    const status = (error as { statusCode?: number }).statusCode
    if (status === 413 || /LIMIT|TOO_LARGE/.test(code)) throw error
    throw new errors.BadRequest(`malformed multipart/form-data: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    request.raw.off('data', count)
  }
}

async function readParts (request: FastifyRequest, limitBytes: number): Promise<FormFields> {
  const fields = new FormFields()
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.valueTruncated || part.fieldnameTruncated) throw new errors.PayloadTooLarge(`the form field ${part.fieldname} is larger than ${limitBytes} bytes (MAILRUN_MAX_MESSAGE_BYTES)`)
      fields.add(part.fieldname, Buffer.from(String(part.value), 'latin1'))
    } else {
      const content = await part.toBuffer()
      if (part.file.truncated) throw new errors.PayloadTooLarge(`the attachment ${part.filename} is larger than ${limitBytes} bytes (MAILRUN_MAX_MESSAGE_BYTES)`)
      fields.add(part.fieldname, content)
    }
  }
  return fields
}
