import Fastify from 'fastify'
import { sql } from 'kysely'
import { simpleParser } from 'mailparser'
import { openDatabase, type DatabaseHandle } from '../src/db/database.js'

// The plain limits mailrun is measured against, on the same machine in the same run: a bare
// Fastify route that reads the raw message and parses it with mailparser (BASELINE=parse), and one
// that also inserts it into the database (BASELINE=insert, on DATABASE_URL or a PGlite data dir).
// Nothing else: no authentication, no DKIM, no launch.

const mode = process.env.BASELINE === 'insert' ? 'insert' : 'parse'
let database: DatabaseHandle | null = null
if (mode === 'insert') {
  const url = process.env.DATABASE_URL
  database = await openDatabase(url !== undefined ? { kind: 'postgres', url } : { kind: 'pglite', dataDir: process.env.MAILRUN_DATA_DIR ?? './data' })
  await sql`create table if not exists bench_inbound (id bigserial primary key, message_id text, from_address text, subject text, raw bytea not null, received_at timestamptz not null default now())`.execute(database.db)
}

const app = Fastify({ bodyLimit: 30 * 1024 * 1024 })
app.addContentTypeParser('message/rfc822', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
app.get('/ready', async () => ({ ok: true }))
app.post('/inbound', async (request) => {
  const raw = request.body as Buffer
  const mail = await simpleParser(raw, { skipHtmlToText: false })
  if (database !== null) {
    await sql`insert into bench_inbound (message_id, from_address, subject, raw) values (${mail.messageId ?? null}, ${mail.from?.value[0]?.address ?? null}, ${mail.subject ?? null}, ${raw})`.execute(database.db)
  }
  return { status: 'stored', subject: mail.subject }
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
const stop = async (): Promise<void> => { await app.close(); await database?.close(); process.exit(0) }
process.once('SIGTERM', () => { stop().catch(() => { process.exit(1) }) })
