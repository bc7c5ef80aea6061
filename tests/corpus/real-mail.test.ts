import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import nodemailer from 'nodemailer'
import t from 'tap'
import type { SmtpDoorConfig } from '../../src/config.js'
import { createSmtpDoor } from '../../src/smtp-door/server.js'
import { buildTestApp } from '../support/app.js'
import { buildReply, clientStyles } from '../support/client-styles.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { fakeDns } from '../support/mail.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { repoRoot } from '../support/process.js'

// Real mail nobody here wrote (tests/fixtures/corpus: enmime's and CPython's test messages), and
// replies shaped as 14 mail clients write them, in text and in HTML, through both the raw MIME door
// and the SMTP door (#27). What must hold for all of it:
//   - no 5xx, and the same decision whichever door the message came through;
//   - a command above a quote launches with exactly its new inputs, never the quoted ones;
//   - STATUS and CANCEL written as replies, politely or not, are understood;
//   - a thank-you in a thread launches nothing and gets no error email.

const { app } = await buildTestApp(t, { dnsResolver: fakeDns([]) })
const sim = await startOrchestratorSimulator()
t.teardown(sim.close)
const setup = await setUpLaunching(app, sim)
const DOOR: SmtpDoorConfig = { port: 0, protocol: 'smtp', tls: undefined, auth: undefined, maxClients: 10, maxClientsPerAddress: 10, idleMs: 60_000, rateLimitPerMinute: 100_000 }
const smtp = createSmtpDoor({ config: DOOR, name: 'mailrun.acme.example', host: '127.0.0.1', maxMessageBytes: 10 * 1024 * 1024, db: app.db, receiver: app.receiver, logger: app.log as never })
const port = await smtp.listen()
t.teardown(smtp.close)
const mta = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 } as never)
t.teardown(() => { mta.close() })

interface Decision { status: string, reason: string | null, problems: unknown[], plan: unknown, replyKind: string | null }

async function decision (messageId: string): Promise<Decision> {
  const row = await eventually(async () => await app.db.selectFrom('messages').select(['id', 'status', 'reason', 'problems']).where('message_id_header', '=', messageId).where('status', '!=', 'received').executeTakeFirst())
  const launch = await app.db.selectFrom('launches').select('plan').where('message_id', '=', row.id).executeTakeFirst()
  const reply = await app.db.selectFrom('notifications').select('kind').where('message_id', '=', row.id).where('launch_id', 'is', null).executeTakeFirst()
  return { status: row.status, reason: row.reason, problems: row.problems, plan: launch?.plan ?? null, replyKind: reply?.kind ?? null }
}

/** The message through the raw MIME door: the HTTP status and the decision. */
async function viaMime (raw: Buffer, messageId: string): Promise<{ http: number, decision: Decision }> {
  const answer = await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })
  return { http: answer.statusCode, decision: await decision(messageId) }
}

/** The message through the SMTP door: the SMTP reply code and the decision. */
async function viaSmtp (raw: Buffer, messageId: string): Promise<{ code: number, decision: Decision }> {
  const info = await mta.sendMail({ envelope: { from: 'anna@sender.example', to: ['robots@acme.example'] }, raw })
  return { code: Number(info.response.slice(0, 3)), decision: await decision(messageId) }
}

/** The message with our own sender, recipient, subject and Message-ID in place of its own; its body and structure untouched. */
function addressed (raw: Buffer, subject: string, messageId: string): Buffer {
  const text = raw.toString('latin1').replace(/^\uFEFF/, '')
  const split = /\r?\n\r?\n/.exec(text)
  const head = split === null ? text : text.slice(0, split.index)
  const rest = split === null ? '\r\n' : text.slice(split.index)
  const kept = head.split(/\r?\n(?![ \t])/).filter((h) => h !== '' && !/^(from|to|cc|subject|message-id|sender|reply-to|return-path|in-reply-to|references|resent-[\w-]+|from )\s*:?/i.test(h))
  return Buffer.from(['From: Anna Petrova <anna@sender.example>', 'To: robots@acme.example', `Subject: ${subject}`, `Message-ID: ${messageId}`, ...kept].join('\r\n') + rest, 'latin1')
}

const corpusDir = path.join(repoRoot, 'tests/fixtures/corpus')
const corpus = (await Promise.all(['enmime', 'cpython'].map(async (dir) => (await readdir(path.join(corpusDir, dir))).sort().map((f) => path.join(dir, f))))).flat()

t.test('every message of the public corpora gets a decision, never a 5xx, and the same one through both doors', async (t) => {
  const figures = { messages: 0, launched: 0, rejected: 0, ignored: 0, other: 0 }
  for (const [n, file] of corpus.entries()) {
    const raw = await readFile(path.join(corpusDir, file))
    const mime = await viaMime(addressed(raw, 'Monthly Report', `<corpus-${n}-mime@sender.example>`), `<corpus-${n}-mime@sender.example>`)
    const smtpd = await viaSmtp(addressed(raw, 'Monthly Report', `<corpus-${n}-smtp@sender.example>`), `<corpus-${n}-smtp@sender.example>`)
    t.ok(mime.http < 500, `${file}: the MIME door answered ${mime.http}`)
    t.equal(smtpd.code, 250, `${file}: the SMTP door stored it`)
    t.same(smtpd.decision, mime.decision, `${file}: both doors decide alike`)
    figures.messages++
    const d = mime.decision
    if (d.status === 'accepted' && d.plan !== null) figures.launched++
    else if (d.status === 'rejected') figures.rejected++
    else if (d.status === 'ignored') figures.ignored++
    else figures.other++
    // A rejection of a known sender tells them what to fix.
    if (d.status === 'rejected' && d.replyKind !== null) t.ok(d.problems.length > 0, `${file}: the rejection says what to fix`)
  }
  t.equal(figures.messages, corpus.length)
  t.ok(corpus.length >= 120, `${corpus.length} corpus messages`)
  t.comment(`corpus: ${JSON.stringify(figures)}`)
})

const quoted = ['Robot "Monthly Report" has been started.', '', 'This is what was understood:', 'period = 2026-10', 'ExtractData: region = North', 'BuildReport']
let count = 0
const nextId = (tag: string): string => `<${tag}-${count++}@sender.example>`

t.test('in every client style, text and HTML: a command above the quote launches with exactly its new inputs, through both doors', async (t) => {
  let right = 0
  for (const style of clientStyles) {
    for (const form of ['text', 'html'] as const) {
      const results: Decision[] = []
      for (const door of ['mime', 'smtp'] as const) {
        const messageId = nextId('style')
        const raw = Buffer.from(buildReply({ style, form, fresh: ['period = 2026-11', 'ExtractData: region = South'], quoted, messageId }))
        results.push(door === 'mime' ? (await viaMime(raw, messageId)).decision : (await viaSmtp(raw, messageId)).decision)
      }
      const [mime, smtpd] = results
      const name = `${style.name}, ${form}`
      t.same(smtpd, mime, `${name}: both doors decide alike`)
      const ok = mime?.status === 'accepted' && t.match(mime.plan, { arguments: { period: '2026-11' }, functions: [{ name: 'ExtractData', args: { region: 'South' } }] }, name) &&
        t.equal((mime.plan as { functions: unknown[] }).functions.length, 1, `${name}: no quoted function`)
      t.equal(mime?.status, 'accepted', `${name}: ${mime?.reason ?? ''} ${JSON.stringify(mime?.problems)}`)
      if (ok) right++
      if (style.signature.length > 0 && !style.signature.includes('--')) t.match((mime?.plan as { ignored?: string[] } | null)?.ignored, style.signature.filter((l) => l !== ''), `${name}: the signature is set aside and said`)
    }
  }
  t.equal(right, clientStyles.length * 2)
  t.comment(`commands read right: ${right} of ${clientStyles.length * 2} (${clientStyles.length} client styles, text and HTML)`)
})

t.test('in every client style, text and HTML: STATUS and CANCEL written as replies are understood, and a thank-you starts nothing', async (t) => {
  const first = await setup.send('period = 2026-09\nBuildReport', { messageId: '<thread-start@sender.example>' })
  t.equal(first.json().status, 'accepted')
  const jobs = sim.jobs.length
  const verbs: Record<string, number> = {}
  for (const style of clientStyles) {
    for (const form of ['text', 'html'] as const) {
      for (const [fresh, expected] of [[['status'], 'status requested in a thread'], [['Status, please'], 'status requested in a thread'], [['Hi,', '', 'status?'], 'status requested in a thread'],
        [['Спасибо!'], 'a reply with nothing to run in it (a thank-you or a signature only)'], [['Thanks!'], 'a reply with nothing to run in it (a thank-you or a signature only)']] as const) {
        const messageId = nextId('verb')
        const raw = Buffer.from(buildReply({ style, form, fresh: [...fresh], quoted, messageId, inReplyTo: '<thread-start@sender.example>' }))
        const d = (await viaMime(raw, messageId)).decision
        t.equal(d.reason, expected, `${style.name}, ${form}: ${fresh.join(' / ')}`)
        if (expected.startsWith('a reply with nothing')) t.equal(d.replyKind, null, `${style.name}, ${form}: no email for a thank-you`)
        if (d.reason === expected) verbs[fresh.join(' ')] = (verbs[fresh.join(' ')] ?? 0) + 1
      }
    }
  }
  t.equal(sim.jobs.length, jobs, 'no robot started by a verb or a thank-you')
  t.comment(`replies read right per verb (of ${clientStyles.length * 2}): ${JSON.stringify(verbs)}`)
})

t.test('in every client style, CANCEL as a reply (also "Отмена, пожалуйста", and HTML alone inside multipart/related) stops the job the thread started', async (t) => {
  let stopped = 0
  for (const style of clientStyles) {
    for (const form of ['text', 'html'] as const) {
      const startId = nextId('cancel-start')
      const start = await setup.send('period = 2026-09\nBuildReport', { messageId: startId })
      const launch = await eventually(async () => await app.db.selectFrom('launches').select(['id', 'job_id']).where('message_id', '=', start.json().message).where('state', '=', 'launched').executeTakeFirst())
      const jobs = sim.jobs.length
      const messageId = nextId('cancel')
      const fresh = form === 'html' ? ['Отмена, пожалуйста'] : ['Cancel, please.']
      const d = (await viaMime(Buffer.from(buildReply({ style, form, fresh, quoted, messageId, inReplyTo: startId })), messageId)).decision
      t.equal(d.reason, 'cancel requested in a thread: stop_requested', `${style.name}, ${form}`)
      t.equal(sim.jobs.length, jobs, `${style.name}, ${form}: no new job`)
      const stop = sim.requests.find((r) => r.path.includes('StopJobs') && JSON.stringify(r.body).includes(String(launch.job_id)))
      if (d.reason === 'cancel requested in a thread: stop_requested' && stop !== undefined) stopped++
    }
  }
  t.equal(stopped, clientStyles.length * 2)
})
