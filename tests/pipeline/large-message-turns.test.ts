import { randomBytes } from 'node:crypto'
import t from 'tap'
import { parseMessage } from '../../src/mail/parse-message.js'
import { authenticateSender } from '../../src/pipeline/authenticate-sender.js'
import { dkimKey, fakeDns, signMessage } from '../support/mail.js'

// A 5 MB message is checked and read while other people's small messages wait on the same event
// loop: its DKIM body hash and its parsing must let other work in between pieces, or every small
// message behind it waits for all of it (mailauth fed a Buffer hashes it in one go: its writes
// wait for 'drain', which comes back within the same turn). Counted in turns of the event loop,
// not in milliseconds; `npm run bench` measures the delay ("small beside attachments").

function withAttachment (bytes: number): Buffer {
  const encoded = randomBytes(bytes).toString('base64').replace(/.{76}/g, '$&\r\n')
  return Buffer.from([
    'From: anna@sender.example', 'To: robots@acme.example', 'Subject: Monthly Report', `Message-ID: <${randomBytes(6).toString('hex')}@sender.example>`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '', 'period = 2026-11', '--b',
    'Content-Type: application/pdf; name="invoice.pdf"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="invoice.pdf"', '', encoded, '--b--', ''
  ].join('\r\n'))
}

/** How many times the event loop came round (other I/O and timers had their turn) while `work` ran. */
async function turnsDuring<T> (work: () => Promise<T>): Promise<{ result: T, turns: number }> {
  let turns = 0
  let running = true
  const turn = (): void => { if (running) { turns++; setImmediate(turn) } }
  setImmediate(turn)
  try {
    return { result: await work(), turns }
  } finally {
    running = false
  }
}

const key = dkimKey('sender.example')
const resolver = fakeDns([key], { 'sender.example': 'v=DMARC1; p=reject' })
// 5 MiB of attachment: about 105 pieces of 64 KiB.
const MIN_TURNS = 20

t.test('a 5 MB message lets other work in while its DKIM signature is checked, and still passes', async (t) => {
  const raw = await signMessage(withAttachment(5 * 1024 * 1024), key)
  const { result, turns } = await turnsDuring(async () => await authenticateSender({
    policy: 'dmarc', raw, fromDomain: 'sender.example', envelopeFrom: null, header: () => [], provider: null, trustedAuthservId: null
  }, resolver))
  t.match(result, { pass: true, dkim: [{ domain: 'sender.example', result: 'pass', aligned: true }] })
  t.ok(turns >= MIN_TURNS, `the event loop came round ${turns} times during the check (at least ${MIN_TURNS} expected)`)
})

t.test('a 5 MB message lets other work in while it is parsed', async (t) => {
  const raw = withAttachment(5 * 1024 * 1024)
  const { result, turns } = await turnsDuring(async () => await parseMessage(raw))
  t.match(result, { subject: 'Monthly Report', attachments: [{ filename: 'invoice.pdf', size: 5 * 1024 * 1024 }] })
  t.ok(turns >= MIN_TURNS, `the event loop came round ${turns} times during parsing (at least ${MIN_TURNS} expected)`)
})

t.test('a message that was changed after signing still fails its DKIM check when read in pieces', async (t) => {
  const raw = await signMessage(withAttachment(256 * 1024), key)
  const changed = Buffer.from(raw)
  changed[changed.length - 20] = changed[changed.length - 20] === 0x41 ? 0x42 : 0x41
  const result = await authenticateSender({
    policy: 'dmarc', raw: changed, fromDomain: 'sender.example', envelopeFrom: null, header: () => [], provider: null, trustedAuthservId: null
  }, resolver)
  // mailauth calls a body that no longer matches its hash "neutral" (RFC 6376 6.1.3).
  t.match(result, { pass: false, dkim: [{ domain: 'sender.example', result: 'neutral', aligned: false }] })
})
