import fc from 'fast-check'
import t from 'tap'
import { readCanaryHeader } from '../../src/canary/canary-header.js'

// Reading the canary header: folded or not, only in the header block, never anything else.

const id = '3c7192eb-d98d-4507-8ce0-695c39603de4'
const token = 'YPHAJbjjt9d4KVN8tvj1-BK3NEACTIs4'

t.test('the header is read folded (as nodemailer writes it) or on one line', async (t) => {
  t.same(readCanaryHeader(Buffer.from(`From: a@b\r\nX-Mailrun-Canary:\r\n ${id}:${token}\r\nSubject: x\r\n\r\nbody`)), { id, token })
  t.same(readCanaryHeader(Buffer.from(`x-mailrun-canary: ${id}:${token}\nSubject: x\n\nbody`)), { id, token })
  t.equal(readCanaryHeader(Buffer.from(`Subject: x\r\n\r\nX-Mailrun-Canary: ${id}:${token}\r\n`)), null, 'in the body it is not a header')
  t.equal(readCanaryHeader(Buffer.from(`X-Mailrun-Canary: ${id}:short\r\n\r\n`)), null)
})

t.test('arbitrary bytes never throw and never invent a canary', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => readCanaryHeader(Buffer.from(bytes)) === null), { numRuns: 2000 })
})
