import type { IncomingMessage } from 'node:http'
import { errors } from '../errors.js'

// A message body read into one buffer, once. Fastify's buffer parser gathers the chunks and then
// concatenates them, so for a moment a 36 MB message occupies 72 MB; with three at once that was
// the largest part of the memory a big message cost. When the length is announced (it is, but for
// chunked posts), the buffer is allocated once and filled in place.

export async function readBody (payload: IncomingMessage, declaredLength: number | null, limit: number, tooLarge: string): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const fixed = declaredLength !== null && declaredLength <= limit ? Buffer.allocUnsafe(declaredLength) : null
    const chunks: Buffer[] = []
    let received = 0
    let failed = false
    const fail = (error: Error): void => {
      if (failed) return
      failed = true
      payload.removeAllListeners('data')
      payload.resume()
      reject(error)
    }
    payload.on('data', (chunk: Buffer) => {
      if (failed) return
      if (received + chunk.length > limit) { fail(new errors.PayloadTooLarge(tooLarge)); return }
      if (fixed !== null) {
        if (received + chunk.length > fixed.length) { fail(new errors.BadRequest('the body is longer than its Content-Length')); return }
        chunk.copy(fixed, received)
      } else {
        chunks.push(chunk)
      }
      received += chunk.length
    })
    payload.on('error', fail)
    payload.on('end', () => {
      if (failed) return
      if (fixed !== null) {
        if (received !== fixed.length) { fail(new errors.BadRequest('the body is shorter than its Content-Length')); return }
        resolve(fixed)
      } else {
        resolve(Buffer.concat(chunks, received))
      }
    })
  })
}
