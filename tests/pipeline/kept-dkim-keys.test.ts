import t from 'tap'
// Everything `npm start` loads, first: a module of mailrun's that loaded mailauth's entry point
// would load its DKIM verifier before the key look-up is replaced, and the first test would fail.
import '../../src/app.js'
import { authenticateSender } from '../../src/pipeline/authenticate-sender.js'
import { mailauthVerifiers } from '../../src/pipeline/mailauth-verifiers.js'

// A sender's DKIM public key is looked up and imported once, not for every message: mailauth
// imports it for every signature it checks (crypto.createPublicKey, a few percent of the push path's
// CPU). What is kept is bound to the resolver that answered, for as long as the resolver keeps
// answers, so a key published anew is used as soon as the answer changes.
// mailrun's verifiers are loaded before the test helpers load mailauth's entry point: mailauth's
// verifier takes the key look-up it uses when it is first loaded (see mailauth-verifiers.ts).
mailauthVerifiers()
const { buildMessage, dkimKey, fakeDns, signMessage } = await import('../support/mail.js')

const check = async (raw: Buffer, resolver: ReturnType<typeof fakeDns>) => await authenticateSender({
  policy: 'dmarc', raw, fromDomain: 'sender.example', envelopeFrom: null, header: () => [], provider: null, trustedAuthservId: null
}, resolver)
const message = (n: number): string => buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: `period = 2026-1${n}` })

t.test('two messages signed with one key: the key is looked up once', async (t) => {
  const key = dkimKey('sender.example')
  const resolver = fakeDns([key], { 'sender.example': 'v=DMARC1; p=reject' })
  for (const n of [1, 2]) t.match(await check(await signMessage(message(n), key), resolver), { pass: true, dkim: [{ domain: 'sender.example', result: 'pass', aligned: true }] })
  const keyLookUps = resolver.queries.filter((q) => q === `TXT ${key.selector}._domainkey.sender.example`)
  t.equal(keyLookUps.length, 1, `the key was looked up ${keyLookUps.length} times for two messages`)
})

t.test('a key published anew under the same selector is used once the answer changes', async (t) => {
  const before = dkimKey('sender.example')
  const after = dkimKey('sender.example')
  const oldAnswers = fakeDns([before], { 'sender.example': 'v=DMARC1; p=reject' })
  const newAnswers = fakeDns([after], { 'sender.example': 'v=DMARC1; p=reject' })
  t.match(await check(await signMessage(message(1), before), oldAnswers), { pass: true })
  t.match(await check(await signMessage(message(2), after), newAnswers), { pass: true, dkim: [{ result: 'pass' }] }, 'the new key verifies the new signature')
  t.match(await check(await signMessage(message(3), before), newAnswers), { pass: false }, 'the old key is not used for the new answer')
})

t.test('a key that could not be found is asked for again with the next message', async (t) => {
  const key = dkimKey('sender.example')
  const resolver = fakeDns([], { 'sender.example': 'v=DMARC1; p=reject' })
  for (const n of [1, 2]) t.match(await check(await signMessage(message(n), key), resolver), { pass: false })
  t.equal(resolver.queries.filter((q) => q === `TXT ${key.selector}._domainkey.sender.example`).length, 2)
})
