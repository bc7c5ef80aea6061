import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { sql } from 'kysely'
import { authenticate } from 'mailauth'
import { simpleParser } from 'mailparser'
import { Pool } from 'undici'
import { openDatabase, type DatabaseHandle } from '../src/db/database.js'
import { cachedResolverOn } from '../src/net/dns-cache.js'

// The plain limits mailrun is measured against, on the same machine in the same run, each a bare
// Fastify route:
// - BASELINE=parse: reads the raw message and parses it with mailparser;
// - BASELINE=insert: also inserts it into the database (DATABASE_URL or a PGlite data dir);
// - BASELINE=essential: the work the product cannot skip, with the project's own libraries —
//   parse, DKIM and DMARC checked by mailauth through the bench's DNS server (MAILRUN_DNS_SERVERS,
//   answers kept as mailrun keeps them), one insert of the message with its launch, one StartJobs
//   to the Orchestrator stand-in (SIMULATOR_URL) over a keep-alive pool, one statement recording
//   the job and queueing the reply. No tenant, sender or robot look-ups, no history, no metrics.

const mode = process.env.BASELINE === 'insert' || process.env.BASELINE === 'essential' ? process.env.BASELINE : 'parse'
let database: DatabaseHandle | null = null
if (mode !== 'parse') {
  const url = process.env.DATABASE_URL
  database = await openDatabase(url !== undefined ? { kind: 'postgres', url } : { kind: 'pglite', dataDir: process.env.MAILRUN_DATA_DIR ?? './data' })
  await sql`create table if not exists bench_inbound (id bigserial primary key, message_id text, from_address text, subject text, raw bytea not null, received_at timestamptz not null default now())`.execute(database.db)
  await sql`create table if not exists bench_launches (id uuid primary key, message_id text, from_address text, subject text, dkim text, dmarc text, raw bytea not null, state text not null, job_id bigint, reply text, received_at timestamptz not null default now())`.execute(database.db)
}

/** What StartJobs needs, found once at start (mailrun keeps them cached per robot too). */
async function orchestrator (base: string): Promise<{ pool: Pool, prefix: string, folderId: number, releaseKey: string }> {
  const origin = new URL(base).origin
  const pool = new Pool(origin, { connections: 16, pipelining: 1 })
  const prefix = `${new URL(base).pathname.replace(/\/$/, '')}/acme/DefaultTenant/orchestrator_`
  const headers = { authorization: 'Bearer sim-pat', accept: 'application/json' }
  const get = async (path: string, folderId?: number): Promise<{ value: Array<Record<string, unknown>> }> => {
    const res = await pool.request({ method: 'GET', path: `${prefix}${path}`, headers: { ...headers, ...(folderId !== undefined ? { 'x-uipath-organizationunitid': String(folderId) } : {}) } })
    return await res.body.json() as { value: Array<Record<string, unknown>> }
  }
  const folder = (await get(`/odata/Folders?$filter=${encodeURIComponent("FullyQualifiedName eq 'Finance'")}`)).value[0]
  const folderId = Number(folder?.Id)
  const release = (await get(`/odata/Releases?$filter=${encodeURIComponent("Name eq 'MonthlyReport'")}`, folderId)).value[0]
  return { pool, prefix, folderId, releaseKey: String(release?.Key) }
}

const target = mode === 'essential' ? await orchestrator(process.env.SIMULATOR_URL ?? '') : null
const resolver = cachedResolverOn((process.env.MAILRUN_DNS_SERVERS ?? '').split(',').filter((s) => s !== ''))

async function essential (raw: Buffer): Promise<Record<string, unknown>> {
  const db = database?.db
  if (db === undefined || target === null) throw new Error('essential needs a database and SIMULATOR_URL')
  const [mail, auth] = await Promise.all([simpleParser(raw, { skipHtmlToText: false }), authenticate(raw, { resolver, disableArc: true, disableBimi: true, trustReceived: false })])
  const from = mail.from?.value[0]?.address ?? null
  const dkim = auth.dkim?.results?.[0]?.status?.result ?? 'none'
  const dmarc = auth.dmarc !== false ? auth.dmarc?.status?.result ?? 'none' : 'none'
  const id = randomUUID()
  await sql`insert into bench_launches (id, message_id, from_address, subject, dkim, dmarc, raw, state) values (${id}, ${mail.messageId ?? null}, ${from}, ${mail.subject ?? null}, ${dkim}, ${dmarc}, ${raw}, 'starting')`.execute(db)
  const res = await target.pool.request({
    method: 'POST',
    path: `${target.prefix}/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs`,
    headers: { authorization: 'Bearer sim-pat', 'content-type': 'application/json', 'x-uipath-organizationunitid': String(target.folderId) },
    body: JSON.stringify({ startInfo: { ReleaseKey: target.releaseKey, Strategy: 'ModernJobsCount', JobsCount: 1, Reference: id, InputArguments: JSON.stringify({ period: '2026-10', in_Functions: mail.text ?? '' }) } })
  })
  const started = await res.body.json() as { value?: Array<{ Id?: number }> }
  const jobId = started.value?.[0]?.Id ?? null
  await sql`update bench_launches set state = 'launched', job_id = ${jobId}, reply = ${`launched job ${String(jobId)}`} where id = ${id}`.execute(db)
  // The answer says whether the work was really done: a signature that did not verify or a job
  // that did not start shows in the bench's outcomes.
  if (dkim !== 'pass' || dmarc !== 'pass' || jobId === null) return { status: 'failed', reason: `dkim ${dkim}, dmarc ${dmarc}, job ${String(jobId)}` }
  return { status: 'accepted', launch: { id, jobId, state: 'launched' } }
}

const app = Fastify({ bodyLimit: 30 * 1024 * 1024 })
app.addContentTypeParser('message/rfc822', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
app.get('/ready', async () => ({ ok: true }))
app.post('/inbound', async (request) => {
  const raw = request.body as Buffer
  if (mode === 'essential') return await essential(raw)
  const mail = await simpleParser(raw, { skipHtmlToText: false })
  if (database !== null) {
    await sql`insert into bench_inbound (message_id, from_address, subject, raw) values (${mail.messageId ?? null}, ${mail.from?.value[0]?.address ?? null}, ${mail.subject ?? null}, ${raw})`.execute(database.db)
  }
  return { status: 'stored', subject: mail.subject }
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
const stop = async (): Promise<void> => { await app.close(); await target?.pool.close(); await database?.close(); process.exit(0) }
process.once('SIGTERM', () => { stop().catch(() => { process.exit(1) }) })
