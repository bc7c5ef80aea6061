import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from './process.js'

export type Field = [string, string | Buffer]

export function fixture (relative: string): Buffer {
  return readFileSync(path.join(repoRoot, 'tests/fixtures', relative))
}

/** A captured HTTP request (.http fixture): its headers and its body bytes. */
export function capturedRequest (relative: string): { headers: Record<string, string>, body: Buffer } {
  const raw = fixture(relative)
  const split = raw.indexOf('\r\n\r\n') !== -1 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n')
  const gap = raw[split] === 0x0d ? 4 : 2
  const headers: Record<string, string> = {}
  for (const line of raw.subarray(0, split).toString('latin1').split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { headers, body: raw.subarray(split + gap) }
}

function percentEncode (value: Buffer): string {
  let out = ''
  for (const byte of value) {
    out += /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** application/x-www-form-urlencoded, byte for byte (values need not be UTF-8). */
export function urlencoded (fields: Field[]): Buffer {
  return Buffer.from(fields.map(([n, v]) => `${percentEncode(Buffer.from(n))}=${percentEncode(Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'))}`).join('&'), 'latin1')
}

/** multipart/form-data with raw field bytes, as providers post it. */
export function multipart (fields: Field[], boundary = `----mailrun${randomBytes(6).toString('hex')}`): { body: Buffer, contentType: string } {
  const chunks: Buffer[] = []
  for (const [name, value] of fields) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`, 'latin1'))
    chunks.push(Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}

/** The fields Mailgun signs a post with: hex HMAC-SHA256(key, timestamp + token). */
export function mailgunSignature (key: string, timestamp = Math.floor(Date.now() / 1000), token = randomBytes(25).toString('hex')): Field[] {
  return [['timestamp', String(timestamp)], ['token', token], ['signature', createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex')]]
}
