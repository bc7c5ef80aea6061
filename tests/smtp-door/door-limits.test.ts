import { connect, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { createFailureLimiter } from '../../src/auth/failure-limiter.js'
import type { SmtpDoorConfig } from '../../src/config.js'
import { AUTH_FAILURES_PER_CONNECTION, createSmtpDoor } from '../../src/smtp-door/server.js'
import { buildTestApp } from '../support/app.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// The SMTP door under a guesser and a hog (#28 items 6 and 7): wrong AUTH passwords are counted
// per connection (closed with 421 after a few) and per address with every other failed credential
// (MAILRUN_AUTH_FAILURE_LIMIT); one address holds at most MAILRUN_SMTP_DOOR_MAX_CLIENTS_PER_ADDRESS
// connections; a connection that starts no message is closed after MAILRUN_SMTP_DOOR_IDLE_S
// however often it sends NOOP.

const BASE: SmtpDoorConfig = { port: 0, protocol: 'smtp', tls: undefined, auth: { user: 'relay', password: 'relay-password-123' }, maxClients: 100, maxClientsPerAddress: 20, idleMs: 60_000, rateLimitPerMinute: 1000 }
const { app } = await buildTestApp(t)
await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })

async function door (t: Test, config: Partial<SmtpDoorConfig>, failureLimit = 1000): Promise<number> {
  const smtp = createSmtpDoor({ config: { ...BASE, ...config }, name: 'mailrun.acme.example', host: '127.0.0.1', maxMessageBytes: 1024 * 1024, db: app.db, receiver: app.receiver, logger: app.log as never, failures: createFailureLimiter({ max: failureLimit }) })
  const port = await smtp.listen()
  t.teardown(smtp.close)
  return port
}

/** A raw client: every reply line it got, and whether the server closed the connection. */
function client (port: number): { socket: Socket, lines: string[], closed: Promise<void>, next: (count: number) => Promise<string[]>, say: (line: string) => void } {
  const socket = connect(port, '127.0.0.1')
  const lines: string[] = []
  let buffer = ''
  const waiters: Array<{ count: number, resolve: () => void }> = []
  const wake = (): void => { for (const w of [...waiters]) if (lines.length >= w.count) { waiters.splice(waiters.indexOf(w), 1); w.resolve() } }
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8')
    let at = buffer.indexOf('\r\n')
    while (at !== -1) { lines.push(buffer.slice(0, at)); buffer = buffer.slice(at + 2); at = buffer.indexOf('\r\n') }
    wake()
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => { socket.on('close', () => { resolve() }) })
  const next = async (count: number): Promise<string[]> => await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`waited for ${count} lines, got ${JSON.stringify(lines)}`)) }, 10_000)
    waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(lines) } })
    wake()
  })
  return { socket, lines, closed, next, say: (line) => { socket.write(`${line}\r\n`) } }
}

const plain = (user: string, password: string): string => `AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}`

t.test(`wrong AUTH passwords: ${AUTH_FAILURES_PER_CONNECTION} per connection, then 421 and the connection closes`, async (t) => {
  const port = await door(t, {})
  const c = client(port)
  await c.next(1)
  c.say('EHLO mta.sender.example')
  const ehlo = await c.next(2)
  const greeted = ehlo.length
  for (let i = 1; i <= AUTH_FAILURES_PER_CONNECTION; i++) {
    c.say(plain('relay', `wrong-${i}`))
    await c.next(greeted + i)
  }
  const answers = c.lines.slice(greeted)
  t.match(answers.slice(0, -1), Array(AUTH_FAILURES_PER_CONNECTION - 1).fill(/^535 /))
  t.match(answers.at(-1), /^421 .*authentication failed too many times/)
  await c.closed
  t.pass('the door closed the connection')
})

t.test('failed logins count per address across connections: past MAILRUN_AUTH_FAILURE_LIMIT even the right password waits, and new connections get 421', async (t) => {
  const port = await door(t, {}, 5)
  for (let n = 0; n < 3; n++) {
    const c = client(port)
    await c.next(1)
    if (/^421 /.test(c.lines[0] ?? '')) break
    c.say('EHLO mta.sender.example')
    await c.next(2)
    for (let i = 0; i < 2 && !c.socket.destroyed; i++) {
      const before = c.lines.length
      c.say(plain('relay', 'guess'))
      await Promise.race([c.next(before + 1), c.closed])
    }
    c.socket.destroy()
  }
  const late = client(port)
  const greeting = await late.next(1)
  t.match(greeting[0], /^421 .*too many failed logins from 127\.0\.0\.1; try again in \d+ s/)
  await late.closed
})

t.test('one address holds at most MAILRUN_SMTP_DOOR_MAX_CLIENTS_PER_ADDRESS connections; the slot frees when one closes', async (t) => {
  const port = await door(t, { maxClientsPerAddress: 3 })
  const held = [client(port), client(port), client(port)]
  for (const c of held) t.match((await c.next(1))[0], /^220 /)
  const fourth = client(port)
  t.match((await fourth.next(1))[0], /^421 .*too many connections from 127\.0\.0\.1/)
  await fourth.closed
  held[0]?.say('QUIT')
  await held[0]?.closed
  const again = client(port)
  t.match((await again.next(1))[0], /^220 /, 'a freed slot is taken again')
  for (const c of [...held, again]) c.socket.destroy()
})

t.test('NOOP does not keep a connection that starts no message open past the idle limit', async (t) => {
  const port = await door(t, { idleMs: 1000, auth: undefined })
  const c = client(port)
  await c.next(1)
  c.say('EHLO mta.sender.example')
  await c.next(2)
  const started = Date.now()
  const noop = setInterval(() => { if (!c.socket.destroyed) c.say('NOOP') }, 200)
  t.teardown(() => { clearInterval(noop) })
  await c.closed
  clearInterval(noop)
  t.ok(Date.now() - started < 10_000, 'closed by the door')
  t.ok(c.lines.some((l) => /^421 .*idle for too long without a message/.test(l)), `with a 421 that says why: ${JSON.stringify(c.lines.slice(-3))}`)
})
