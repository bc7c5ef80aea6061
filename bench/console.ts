import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import { hashPassword } from '../src/auth/passwords.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { startMailrun, type Shared } from './push.js'
import { freshDatabase, type DatabaseKind } from './support/targets.js'

// Issue #14: the console's dashboard and messages list with 100,000 messages stored, each page
// answered (server time, measured from a client on the same machine) within 100 ms.

export interface ConsoleReport {
  database: DatabaseKind
  messages: number
  launches: number
  pages: Array<{ page: string, p50Ms: number, p95Ms: number, maxMs: number, bytes: number }>
}

const EMAIL = 'olga@acme.example'
const PASSWORD = 'bench console password'

/** A tenant with a console user, a mailbox, and `count` messages over the last 7 days (a quarter of them launched). */
export async function seed (env: Record<string, string>, kind: DatabaseKind, count: number): Promise<{ launches: number }> {
  const handle = await openDatabase(kind === 'postgres' ? { kind, url: env.DATABASE_URL ?? '' } : { kind, dataDir: env.MAILRUN_DATA_DIR ?? '' })
  try {
    const db = handle.db
    await migrateToLatest(db)
    const tenant = await db.insertInto('tenants').values({ name: 'Acme Finance', max_mailboxes: 3 }).returning('id').executeTakeFirstOrThrow()
    const mailbox = await db.insertInto('mailboxes').values({ tenant_id: tenant.id, address: 'robots@acme.example', ingress_token_hash: 'x'.repeat(64) }).returning('id').executeTakeFirstOrThrow()
    await db.insertInto('users').values({ tenant_id: tenant.id, email: EMAIL, name: 'Olga', role: 'admin', password_hash: await hashPassword(PASSWORD) }).execute()
    const step = Math.floor((7 * 24 * 3600) / count * 1000)
    await sql`insert into messages (tenant_id, mailbox_id, door, dedupe_key, from_address, status, reason, raw_sha256, size_bytes, received_at, processed_at, detection_latency_ms, imap_folder)
      select ${tenant.id}, ${mailbox.id}, (array['mime','mailgun','imap','sendgrid'])[1 + g % 4], 'bench-' || g, 'sender' || (g % 50) || '@finance.example',
        (array['accepted','rejected','ignored','accepted'])[1 + g % 4], case when g % 4 = 1 then 'the email has 1 problem' end, md5(g::text), 2048,
        now() - (g * ${step}) * interval '1 millisecond', now() - (g * ${step}) * interval '1 millisecond', case when g % 4 = 2 then 500 + g % 3000 end, case when g % 4 = 2 then 'INBOX' end
      from generate_series(1, ${count}) g`.execute(db)
    const launched = await sql`insert into launches (tenant_id, message_id, plan, state, job_id, created_at, updated_at)
      select tenant_id, id, '{"arguments":{},"functions":[]}'::jsonb, (array['completed','launched','faulted','failed'])[1 + (abs(hashtext(id::text)) % 4)], 1000, received_at, received_at
      from messages where tenant_id = ${tenant.id} and door = 'mime' and status = 'accepted'`.execute(db)
    await sql`analyze`.execute(db)
    return { launches: Number(launched.numAffectedRows ?? 0) }
  } finally {
    await handle.close()
  }
}

async function signIn (base: string): Promise<string> {
  const page = await fetch(`${base}/console/sign-in`)
  const cookies = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? ''
  const res = await fetch(`${base}/console/sign-in`, { method: 'POST', redirect: 'manual', headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, email: EMAIL, password: PASSWORD }).toString() })
  const session = res.headers.getSetCookie().find((c) => c.startsWith('mailrun_session='))?.split(';')[0]
  if (session === undefined) throw new Error(`bench: sign-in failed (${res.status})`)
  return session
}

export async function benchConsole (kind: DatabaseKind, shared: Shared, workDir: string, options: { messages: number, rounds: number }, report: (line: string) => void): Promise<ConsoleReport> {
  const database = await freshDatabase(kind)
  try {
    const t0 = performance.now()
    const { launches } = await seed(database.env, kind, options.messages)
    report(`${kind}: seeded ${options.messages} messages and ${launches} launches in ${Math.round((performance.now() - t0) / 1000)} s`)
    const { service } = await startMailrun(kind, database.env, shared, workDir)
    try {
      const cookie = await signIn(service.url)
      const pages: ConsoleReport['pages'] = []
      for (const page of ['/console', '/console/messages', '/console/messages?status=rejected', '/console/launches?state=faulted']) {
        const times: number[] = []
        let bytes = 0
        for (let i = 0; i < options.rounds + 2; i++) {
          const start = performance.now()
          const res = await fetch(`${service.url}${page}`, { headers: { cookie } })
          const body = await res.text()
          if (res.status !== 200) throw new Error(`bench: ${page} answered ${res.status}`)
          // The first two warm the caches (templates, statements).
          if (i >= 2) times.push(performance.now() - start)
          bytes = body.length
        }
        times.sort((a, b) => a - b)
        const at = (q: number): number => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0)
        pages.push({ page, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: Math.round(times.at(-1) ?? 0), bytes })
        report(`${kind} ${page}: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`)
      }
      return { database: kind, messages: options.messages, launches, pages }
    } finally {
      await service.stop()
    }
  } finally {
    await database.drop()
  }
}
