import { request } from 'node:http'
import { connect } from 'node:net'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// A post is read only as far as it can be accepted: past the message limit (chunked or not) the
// door stops reading and answers 413; a credential that needs no body is checked before any of it.

const MB = 1024 * 1024

/** Streams `total` bytes (chunked) and reports the answer and how much the server let us write. */
async function streamPost (url: string, headers: Record<string, string>, total: number, chunk: (n: number) => Buffer): Promise<{ status: number | null, written: number }> {
  return await new Promise((resolve) => {
    let written = 0
    const answer: { status: number | null } = { status: null }
    let finished = false
    const done = (): void => { if (!finished) { finished = true; resolve({ status: answer.status, written }) } }
    const req = request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      answer.status = res.statusCode ?? null
      res.resume()
      res.on('end', done)
      res.on('error', done)
    })
    req.on('error', done)
    const pump = (): void => {
      while (written < total && answer.status === null && !req.destroyed) {
        const piece = chunk(written)
        written += piece.length
        if (!req.write(piece)) { req.once('drain', pump); return }
      }
      if (written >= total) req.end()
    }
    pump()
    setTimeout(() => { req.destroy(); done() }, 30_000).unref()
  })
}

t.test(`door posts are bounded before and while they are read, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_MAX_MESSAGE_BYTES: String(MB) } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const signed = await setUpMailbox(app, { mailbox: { mailgunSigningKey: 'mailgun-signing-key-for-tests' } })
  const unsigned = await setUpMailbox(app, { tenant: 'Keyless', address: 'keyless@keyless.example' })

  t.test('a chunked multipart post of 60 MB in 512 KB fields is cut off past the limit with 413', async (t) => {
    const boundary = 'mailrunboundary'
    const field = (n: number): Buffer => Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f${n}"\r\n\r\n`), Buffer.alloc(512 * 1024, 0x61), Buffer.from('\r\n')])
    const result = await streamPost(`${base}/inbound/${signed.ingressToken}/mailgun`, { 'content-type': `multipart/form-data; boundary=${boundary}` }, 60 * MB, (written) => field(written))
    t.equal(result.status, 413)
    t.ok(result.written < 15 * MB, `the server stopped reading after ${(result.written / MB).toFixed(1)} MB of 60`)
  })

  t.test('an unknown token is answered before the body is read', async (t) => {
    const result = await streamPost(`${base}/inbound/not-a-token/mime`, { 'content-type': 'message/rfc822' }, 50 * MB, () => Buffer.alloc(64 * 1024, 0x61))
    t.equal(result.status, 404)
    t.ok(result.written < 15 * MB, `after ${(result.written / MB).toFixed(1)} MB of 50`)
  })

  t.test('a Mailgun door without a signing key answers 401 before the body is read', async (t) => {
    const result = await streamPost(`${base}/inbound/${unsigned.ingressToken}/mailgun`, { 'content-type': 'multipart/form-data; boundary=x' }, 50 * MB, () => Buffer.alloc(64 * 1024, 0x61))
    t.equal(result.status, 401)
    t.ok(result.written < 15 * MB, `after ${(result.written / MB).toFixed(1)} MB of 50`)
  })

  // A sender that writes its whole post before it reads (many HTTP clients do). Were the
  // connection closed at once, the data still arriving would make the server's kernel reset it,
  // and a reset throws away the answer the client has not read yet: the sender would see a broken
  // connection and not the answer that says why.
  const writeAllThenRead = async (head: string, piece: Buffer, total: number): Promise<string> => await new Promise<string>((resolve) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1')
    socket.pause()
    let received = ''
    const read = (): void => {
      socket.on('data', (data) => { received += data.toString('latin1') })
      socket.on('end', () => { resolve(received) })
      socket.on('close', () => { resolve(received) })
      socket.resume()
    }
    socket.on('error', () => { resolve(received) })
    socket.write(head)
    const chunk = Buffer.concat([Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n')])
    let written = 0
    const pump = (): void => {
      while (written < total) {
        written += piece.length
        if (!socket.write(chunk)) { socket.once('drain', pump); return }
      }
      setTimeout(read, 300)
    }
    pump()
    setTimeout(read, 5000).unref()
  })

  t.test('a sender that writes everything before reading still gets the answer to an unknown token', async (t) => {
    const answer = await writeAllThenRead('POST /inbound/not-a-token/mime HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: message/rfc822\r\nTransfer-Encoding: chunked\r\n\r\n', Buffer.alloc(64 * 1024, 0x61), 4 * MB)
    t.match(answer, /^HTTP\/1\.1 404 /)
  })

  t.test('a sender that writes everything before reading still gets the 413 of a multipart post over the limit', async (t) => {
    const boundary = 'mailrunboundary'
    const field = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f"\r\n\r\n`), Buffer.alloc(256 * 1024, 0x61), Buffer.from('\r\n')])
    const answer = await writeAllThenRead(`POST /inbound/${signed.ingressToken}/mailgun HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nTransfer-Encoding: chunked\r\n\r\n`, field, 8 * MB)
    t.match(answer, /^HTTP\/1\.1 413 /)
  })

  t.test('the server is still healthy and takes the next post', async (t) => {
    t.equal((await fetch(`${base}/healthz`)).status, 200)
  })
})
