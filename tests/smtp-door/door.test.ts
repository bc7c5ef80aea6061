import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import nodemailer, { type Transporter } from 'nodemailer'
import t, { type Test } from 'tap'
import type { SmtpDoorConfig } from '../../src/config.js'
import type { InboundMail } from '../../src/pipeline/inbound-mail.js'
import type { Receiver } from '../../src/pipeline/receive.js'
import { createSmtpDoor, receivedLine } from '../../src/smtp-door/server.js'
import { buildTestApp } from '../support/app.js'
import { eventually, setUpLaunching, type LaunchSetup } from '../support/launching.js'
import { buildMessage, fakeDns } from '../support/mail.js'
import { startOrchestratorSimulator, type OrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { smtpDialogue } from '../support/smtp-dialogue.js'

// The SMTP door against real SMTP clients: nodemailer as an MTA would deliver, and a line-by-line
// dialogue where the exact replies matter. Behind it, the real pipeline on the test database and
// the Orchestrator simulator.

const DOOR: SmtpDoorConfig = { port: 0, protocol: 'smtp', tls: undefined, auth: undefined, maxClients: 10, maxClientsPerAddress: 10, idleMs: 60_000, rateLimitPerMinute: 1000 }

interface Setup extends LaunchSetup { app: Awaited<ReturnType<typeof buildTestApp>>['app'], sim: OrchestratorSimulator }

async function setUp (t: Test): Promise<Setup> {
  // sender.example publishes SPF for this machine and a DMARC policy; other.example nothing.
  const dns = fakeDns([], { 'sender.example': 'v=DMARC1; p=reject' }, { 'sender.example': 'v=spf1 ip4:127.0.0.1 -all' })
  const { app } = await buildTestApp(t, { dnsResolver: dns })
  const sim = await startOrchestratorSimulator()
  t.teardown(sim.close)
  const setup = await setUpLaunching(app, sim)
  return { ...setup, app, sim }
}

async function door (t: Test, setup: Setup, options: Partial<SmtpDoorConfig> = {}, receiver: Receiver = setup.app.receiver, maxMessageBytes = 1024 * 1024): Promise<number> {
  const smtp = createSmtpDoor({ config: { ...DOOR, ...options }, name: 'mailrun.acme.example', host: '127.0.0.1', maxMessageBytes, db: setup.app.db, receiver, logger: setup.app.log as never })
  const port = await smtp.listen()
  t.teardown(smtp.close)
  return port
}

const mta = (port: number, extra: Record<string, unknown> = {}): Transporter => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...extra } as never)

const command = (messageId: string, from = 'Anna Petrova <anna@sender.example>'): string => buildMessage({ from, subject: 'Monthly Report', body: 'period = 2026-10\nExtractData: region = North\nBuildReport', messageId })

async function send (port: number, raw: string, envelope = { from: 'anna@sender.example', to: ['robots@acme.example'] }, extra: Record<string, unknown> = {}): Promise<{ response?: string, rejected?: unknown[], error?: { responseCode?: number, response?: string } }> {
  try {
    const info = await mta(port, extra).sendMail({ envelope, raw })
    return { response: info.response, rejected: info.rejected }
  } catch (error) {
    return { error: error as { responseCode?: number, response?: string } }
  }
}

// One app, database and simulator for the file (each test opens its own door on it): the tests
// use their own Message-IDs and count what they add.
const shared = await setUp(t)
const jobsNow = (): number => shared.sim.jobs.length

t.test('a message for a service mailbox is stored, launched, and answered 250 once stored; the same message again launches nothing', async (t) => {
  const setup = shared
  const before = jobsNow()
  const port = await door(t, setup)
  const first = await send(port, command('<smtp-1@sender.example>'))
  t.match(first.response, /^250 2\.6\.0 stored for <robots@acme\.example> as [0-9a-f-]{36} \(accepted\)$/)
  const stored = await setup.app.db.selectFrom('messages').select(['door', 'status']).where('message_id_header', '=', '<smtp-1@sender.example>').execute()
  t.same(stored, [{ door: 'smtp', status: 'accepted' }])
  await eventually(async () => jobsNow() === before + 1)
  const again = await send(port, command('<smtp-1@sender.example>'))
  t.match(again.response, /\(duplicate\)$/)
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(jobsNow(), before + 1, 'one job')
})

t.test('RCPT for an address that is no service mailbox is refused with 550 5.1.1; the others still get the message', async (t) => {
  const setup = shared
  const port = await door(t, setup)
  const replies = await smtpDialogue(port, ['EHLO mta.sender.example', 'MAIL FROM:<anna@sender.example>', 'RCPT TO:<nobody@acme.example>', 'RCPT TO:<ROBOTS@acme.example>', 'DATA', { data: command('<smtp-2@sender.example>'), replies: 1 }, 'QUIT'])
  t.equal(replies[3], '550 5.1.1 <nobody@acme.example>: no such service mailbox here')
  t.match(replies[4], /^250 /, 'the address is matched whatever its case')
  t.match(replies[6], /^250 2\.6\.0 stored for <ROBOTS@acme\.example>/)
  t.match(replies[1], /^250[- ]SIZE 1048576$/m, 'EHLO advertises the size limit')
  t.notMatch(replies[1], /STARTTLS|AUTH/, 'neither STARTTLS nor AUTH without their settings')
})

t.test('a message over the size limit is refused with 552 and not stored', async (t) => {
  const setup = shared
  const port = await door(t, setup, {}, setup.app.receiver, 4096)
  const big = buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Monthly Report', body: `period = 2026-10\n${'x'.repeat(76)}\n`.repeat(100), messageId: '<big@sender.example>' })
  const result = await send(port, big)
  t.equal(result.error?.responseCode, 552)
  t.equal((await setup.app.db.selectFrom('messages').select('id').where('message_id_header', '=', '<big@sender.example>').execute()).length, 0)
})

t.test('a message that cannot be stored is answered 451 4.3.0, so the MTA retries; the retry is stored and launched once', async (t) => {
  const setup = shared
  const seen: InboundMail[] = []
  let failures = 1
  const flaky: Receiver = {
    ...setup.app.receiver,
    receive: async (mailbox, mail, afterStore) => {
      seen.push(mail)
      if (failures-- > 0) throw new Error('connection terminated unexpectedly')
      return await setup.app.receiver.receive(mailbox, mail, afterStore)
    }
  }
  const port = await door(t, setup, {}, flaky)
  const refused = await send(port, command('<smtp-3@sender.example>'))
  t.equal(refused.error?.responseCode, 451)
  t.match(refused.error?.response, /^451 4\.3\.0 could not store the message for <robots@acme\.example> now; try again later/)
  const before = jobsNow()
  const retried = await send(port, command('<smtp-3@sender.example>'))
  t.match(retried.response, /\(accepted\)$/)
  await eventually(async () => jobsNow() === before + 1)
  // What the door handed over: the client for SPF, a Received line outside the message's identity.
  const mail = seen[1]
  t.same(mail?.client, { ip: '127.0.0.1', helo: mail?.client?.helo })
  t.match(mail?.trace?.toString(), /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mailrun\.acme\.example \(mailrun\) with ESMTP id \S+\r\n\tfor <robots@acme\.example>;\r\n\t\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n$/)
  t.equal(mail?.raw.toString().startsWith('Received:'), false, 'the trace is kept apart from the message bytes')
})

t.test('LMTP answers once per recipient', async (t) => {
  const setup = shared
  const other = await setup.api('POST', '/api/v1/mailboxes', { address: 'finance@acme.example', senderAuth: 'off' })
  t.equal(other.statusCode, 201, other.body)
  const picky: Receiver = {
    ...setup.app.receiver,
    receive: async (mailbox, mail, afterStore) => {
      if (mailbox.address === 'finance@acme.example') throw new Error('database unavailable')
      return await setup.app.receiver.receive(mailbox, mail, afterStore)
    }
  }
  const port = await door(t, setup, { protocol: 'lmtp' }, picky)
  const replies = await smtpDialogue(port, ['LHLO mta.acme.example', 'MAIL FROM:<anna@sender.example>', 'RCPT TO:<robots@acme.example>', 'RCPT TO:<finance@acme.example>', 'DATA', { data: command('<lmtp-1@sender.example>'), replies: 2 }, 'QUIT'])
  t.match(replies[0], /^220 mailrun\.acme\.example LMTP mailrun$/)
  t.match(replies[6], /^250 2\.6\.0 stored for <robots@acme\.example> as .* \(accepted\)$/)
  t.match(replies[7], /^451 4\.3\.0 could not store the message for <finance@acme\.example> now; try again later$/)
})

t.test('SPF on this door: an unsigned message passes DMARC through an aligned SPF pass, and fails without one', async (t) => {
  const setup = shared
  const strict = await setup.api('POST', '/api/v1/mailboxes', { address: 'strict@acme.example' })
  t.equal(strict.statusCode, 201, strict.body)
  const port = await door(t, setup)
  const passed = await send(port, command('<spf-1@sender.example>'), { from: 'anna@sender.example', to: ['strict@acme.example'] })
  t.match(passed.response, /\(accepted\)$/, passed.error?.response ?? '')
  const forged = await send(port, command('<spf-2@sender.example>'), { from: 'someone@other.example', to: ['strict@acme.example'] })
  t.match(forged.response, /\(rejected\)$/)
  const rows = await setup.app.db.selectFrom('messages').select(['message_id_header', 'status', 'reason', 'auth_verdict']).where('mailbox_id', '=', strict.json().id).orderBy('received_at').execute()
  t.match(rows[0]?.auth_verdict, { pass: true, spf: { domain: 'sender.example', result: 'pass', aligned: true } })
  t.match(rows[1]?.reason, /sender authentication failed: .*SPF \w+ for other\.example/)
})

t.test('STARTTLS with the configured certificate, and AUTH required when set', async (t) => {
  const setup = shared
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-smtp-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const keyFile = path.join(dir, 'key.pem')
  const certFile = path.join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=mailrun.acme.example'], { stdio: 'ignore' })
  const port = await door(t, setup, { tls: { certFile, keyFile }, auth: { user: 'relay', password: 'relay-password-123' } })
  const tls = { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } }
  const anonymous = await send(port, command('<auth-1@sender.example>'), undefined, tls)
  t.equal(anonymous.error?.responseCode, 530, 'authentication is required')
  const wrong = await send(port, command('<auth-2@sender.example>'), undefined, { ...tls, auth: { user: 'relay', pass: 'not-the-password' } })
  t.equal(wrong.error?.responseCode, 535)
  const right = await send(port, command('<auth-3@sender.example>'), undefined, { ...tls, auth: { user: 'relay', pass: 'relay-password-123' } })
  t.match(right.response, /\(accepted\)$/)
  const plain = await smtpDialogue(port, ['EHLO mta.sender.example', 'AUTH PLAIN AHJlbGF5AHJlbGF5LXBhc3N3b3JkLTEyMw==', 'QUIT'])
  t.match(plain[1], /STARTTLS/)
  t.match(plain[2], /^538 |^530 |^5\d\d /, 'no AUTH before STARTTLS when a certificate is set')
})

t.test('a client over its rate is told to try again later', async (t) => {
  const setup = shared
  const port = await door(t, setup, { rateLimitPerMinute: 1 })
  t.match((await send(port, command('<rate-1@sender.example>'))).response, /^250 /)
  // The window is the clock's minute: should the first two straddle its end, the third is still
  // in the second one's minute, so one of the two after the first is refused.
  const later = [await send(port, command('<rate-2@sender.example>')), await send(port, command('<rate-3@sender.example>'))]
  const refused = later.find((r) => r.error !== undefined)
  t.equal(refused?.error?.responseCode, 450)
  t.match(refused?.error?.response, /too many messages from 127\.0\.0\.1 this minute/)
})

t.test('the Received line names the client, this server, the protocol and the recipient', async (t) => {
  const line = receivedLine({ id: 'ABC123', remoteAddress: '192.0.2.7', hostNameAppearsAs: 'mta.acme.example', transmissionType: 'ESMTPS' }, 'mailrun.acme.example', ['robots@acme.example'], new Date('2026-11-30T12:00:00Z'))
  t.equal(line, 'Received: from mta.acme.example ([192.0.2.7])\r\n\tby mailrun.acme.example (mailrun) with ESMTPS id ABC123\r\n\tfor <robots@acme.example>;\r\n\tMon, 30 Nov 2026 12:00:00 +0000\r\n')
  t.notMatch(receivedLine({ id: 'x', remoteAddress: '::1', hostNameAppearsAs: 'h', transmissionType: 'SMTP' }, 'n', ['a@b', 'c@d']), /for </, 'no "for" with several recipients')
})
