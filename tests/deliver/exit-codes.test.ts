import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../support/net.js'
import { repoRoot } from '../support/process.js'

// mailrun-deliver turns every answer (or its absence) into the exit status an MTA acts on:
// 0 stored, 75 defer and retry, a permanent code only when retrying cannot help.

const bin = path.join(repoRoot, 'bin/mailrun-deliver.js')

async function deliver (url: string, message: string, env: Record<string, string> = {}): Promise<{ code: number | null, stderr: string, stdout: string }> {
  const child = spawn(process.execPath, [bin, url], { env: { PATH: process.env.PATH ?? '', ...env } })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stdin.end(message)
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stderr, stdout }
}

t.test('each answer of a door maps to the sysexits code an MTA expects, with a one-line reason', async (t) => {
  const received: string[] = []
  const answers: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/accepted': (_q, r) => { r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: '0b5c1d9e-0000-4000-8000-000000000001', status: 'accepted' })) },
    '/duplicate': (_q, r) => { r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: '0b5c1d9e-0000-4000-8000-000000000002', status: 'duplicate', reason: 'this message was already received' })) },
    '/rejected': (_q, r) => { r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: '0b5c1d9e-0000-4000-8000-000000000003', status: 'rejected', reason: 'unknown sender' })) },
    '/unknown-token': (_q, r) => { r.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 404, code: 'MAILRUN_ERR_NOT_FOUND', message: 'unknown ingress token' })) },
    '/too-large': (_q, r) => { r.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 413, code: 'MAILRUN_ERR_PAYLOAD_TOO_LARGE', message: 'the message is larger than 31457280 bytes (MAILRUN_MAX_MESSAGE_BYTES)' })) },
    '/not-stored': (_q, r) => { r.writeHead(503, { 'content-type': 'application/json', 'retry-after': '60' }).end(JSON.stringify({ statusCode: 503, code: 'MAILRUN_ERR_NOT_STORED', message: 'the message could not be stored; retry later' })) },
    '/internal': (_q, r) => { r.writeHead(500).end('boom') },
    '/throttled': (_q, r) => { r.writeHead(429, { 'retry-after': '5' }).end('') },
    '/bad': (_q, r) => { r.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 400, message: 'the body must be the raw message' })) },
    '/reset': (q) => { q.socket.destroy() },
    '/silent': () => {}
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push(`${req.headers['content-type'] ?? ''} ${Buffer.concat(chunks).toString()}`)
      const answer = answers[req.url ?? '']
      if (answer !== undefined) answer(req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const message = 'From: anna@sender.example\r\nSubject: Monthly Report\r\n\r\nperiod = 2026-11\r\n'

  const table: Array<[string, number, RegExp]> = [
    ['/accepted', 0, /^mailrun-deliver: stored by mailrun as accepted \(message 0b5c1d9e-0000-4000-8000-000000000001\)\n$/],
    ['/duplicate', 0, /stored by mailrun as duplicate .*: this message was already received/],
    ['/rejected', 0, /stored by mailrun as rejected .*: unknown sender/],
    ['/unknown-token', 67, /does not know this ingress token \(404\)/],
    ['/too-large', 73, /too large for mailrun \(413\): the message is larger than 31457280 bytes/],
    ['/not-stored', 75, /mailrun answered 503: the message could not be stored; retry later; retry after 60 s; the MTA will try again/],
    ['/internal', 75, /mailrun answered 500: boom/],
    ['/throttled', 75, /mailrun answered 429; retry after 5 s/],
    ['/bad', 65, /refused the message \(400\)/],
    ['/reset', 75, /not reachable .*\(ECONNRESET\)/]
  ]
  for (const [route, code, line] of table) {
    const result = await deliver(`${base}${route}`, message)
    t.equal(result.code, code, `${route} exits ${code}`)
    t.match(result.stderr, line, `${route} says why`)
    t.equal(result.stderr.trim().split('\n').length, 1, `${route}: one line`)
  }
  t.equal(received[0], `message/rfc822 ${message}`, 'the message is posted byte for byte as message/rfc822')

  const slow = await deliver(`${base}/silent`, message, { MAILRUN_DELIVER_TIMEOUT_S: '1' })
  t.equal(slow.code, 75, 'no answer in time: defer')
  t.match(slow.stderr, /no answer within 1 s/)

  const down = await deliver(`http://127.0.0.1:${await freePort()}/inbound/x/mime`, message)
  t.equal(down.code, 75, 'mailrun down: defer, never bounce')
  t.match(down.stderr, /not reachable .*ECONNREFUSED/)

  t.equal((await deliver('', message)).code, 64, 'no URL: usage')
  t.equal((await deliver('ftp://mailrun.example/x', message)).code, 78, 'not an http(s) URL: configuration error')
  t.equal((await deliver(`${base}/accepted`, '')).code, 65, 'an empty message is refused')
})
