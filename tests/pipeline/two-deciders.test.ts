import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { buildMessage, dkimKey, fakeDns, signMessage } from '../support/mail.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Two deciders of one message (a door still deciding, and recovery — or a replica that met the same
// delivery and took it as stranded): one records the outcome, one launch follows. The door that
// stored the message must still answer with that outcome, not "duplicate": CI saw two replicas each
// answer "duplicate" for a message that had launched.

t.test(`the door that stored a message answers its outcome when another decider recorded it first, on ${testDatabaseKind}`, async (t) => {
  const key = dkimKey('sender.example')
  const dns = fakeDns([key], { 'sender.example': 'v=DMARC1; p=reject' })
  // The door's first DNS look-up is slow, so the other decider records first.
  let slowOnce = true
  const resolver = Object.assign(async (name: string, rrtype: string) => {
    if (slowOnce) { slowOnce = false; await new Promise((resolve) => setTimeout(resolve, 1500)) }
    return await dns(name, rrtype)
  }, { queries: dns.queries })
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app, database } = await buildTestApp(t, { dnsResolver: resolver })
  const setup = await setUpLaunching(app, sim, {}, { senderAuth: 'dmarc' })
  const raw = await signMessage(buildMessage({ from: 'Anna Petrova <anna@sender.example>', subject: 'Monthly Report', body: 'period = 2026-10\nBuildReport', messageId: '<two-deciders@sender.example>' }), key)

  const door = app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })
  const stored = await eventually(async () => await database.db.selectFrom('messages').select(['id', 'status']).where('dedupe_key', '=', '<two-deciders@sender.example>').executeTakeFirst(), 5_000)
  t.equal(stored.status, 'received', 'stored, the door still deciding')
  const other = await app.receiver.processStored(stored.id)
  t.match(other, { status: 'accepted', launch: { state: 'launched' } }, 'the other decider recorded it and launched')
  const answer = (await door).json()
  t.match(answer, { message: stored.id, status: 'accepted', launch: { id: other.launch?.id, state: 'launched', jobId: Number } }, 'the door answers the outcome, not "duplicate"')
  t.equal(sim.jobs.length, 1, 'one job')
})
