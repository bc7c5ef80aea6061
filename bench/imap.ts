import { existsSync } from 'node:fs'
import { ImapFlow } from 'imapflow'
import pg from 'pg'
import { launchDovecot, WITHOUT_NOTIFY, type Dovecot } from '../tests/support/dovecot.js'
import { benchMessage } from './support/messages.js'
import { percentiles, type Percentiles } from './support/load.js'
import { idleSample, type ServiceProcess } from './support/processes.js'
import { freshDatabase } from './support/targets.js'
import { LETTER, setUpTenant, type BenchTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

export interface ImapPlan {
  messages: number
  intervalS: number
  mailboxCounts: number[]
  idleS: number
  /** Mailboxes saved one at a time to time how soon each is watched. */
  pickups: number
  /** How long the server is down in the restart fault. */
  serverDownS: number
  workDir: string
}

export type ImapServer = 'NOTIFY' | 'no NOTIFY'

export interface ImapReport {
  intervalS: number
  idleS: number
  messages: number
  /** Detection (stored − APPEND done) by folder, with a server that offers NOTIFY and one that does not. */
  detection: Array<{ server: ImapServer, inbox: Percentiles, junk: Percentiles }>
  /** From the API's answer to the mailbox's first completed sweep: a new mailbox, then new settings. */
  pickup: { created: Percentiles, changed: Percentiles }
  /** Each fault once: seconds from the mail being there (or the server back) to stored. */
  faults: Array<{ fault: string, seconds: number }>
  mailboxes: Array<{ count: number, connected: number, rssMb: number, cpuPercent: number }>
  /** A second instance on the same PostgreSQL; the first killed (SIGKILL): seconds until it swept every mailbox. */
  takeover: { mailboxes: number, heldByFirst: number, seconds: number } | null
}

const PASSWORD = 'bench-imap-password'
const BENCH_USER = 'bench@acme.example'
// The recipe's limits suit a test; a thousand watched mailboxes (two instances' worth while one
// takes over) need that many IMAP sessions.
const MANY_CONNECTIONS = `
default_process_limit = 5000
default_client_limit = 20000
mail_max_userip_connections = 50
service anvil {
  client_limit = 20000
}
`

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const normalise = (id: string | null): string => (id ?? '').replace(/^<|>$/g, '').toLowerCase()
/** The message's Message-ID as the messages table keys it (no angle brackets, lower case). */
const messageIdOf = (raw: Buffer): string => normalise(/^Message-ID: (.*)$/mi.exec(raw.toString('latin1'))?.[1] ?? null)
/** How many of the rig's mailboxes have finished a sweep. */
const sweptCount = async (sql: pg.Pool): Promise<number> => Number((await sql.query('select count(*) from mailboxes where imap_last_swept_at is not null')).rows[0].count)

async function until (what: string, ms: number, check: () => Promise<boolean>, everyMs = 200): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`IMAP bench: timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

interface Rig {
  dovecot: Dovecot & { destroy: () => Promise<void> }
  /** The database's variables (URL and secret key): a second instance shares them. */
  databaseEnv: Record<string, string>
  sql: pg.Pool
  service: ServiceProcess
  tenant: BenchTenant
  imap: (user: string) => Record<string, unknown>
  close: () => Promise<void>
}

async function rig (server: ImapServer, users: Record<string, string>, plan: ImapPlan, shared: Shared, maxMailboxes: number): Promise<Rig> {
  const dovecot = await launchDovecot(users, MANY_CONNECTIONS + (server === 'NOTIFY' ? '' : WITHOUT_NOTIFY))
  const database = await freshDatabase('postgres')
  const sql = new pg.Pool({ connectionString: database.env.DATABASE_URL, max: 2 })
  const { service } = await startMailrun('postgres', { ...database.env, MAILRUN_SWEEP_INTERVAL_S: String(plan.intervalS), MAILRUN_ADMIN_RATE_LIMIT: '100000' }, shared, plan.workDir)
  const imap = (user: string): Record<string, unknown> => ({ host: dovecot.host, port: dovecot.port, tls: false, user, password: PASSWORD })
  const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: shared.simulator.url, smtpPort: shared.smtpPort, maxMailboxes, imap: imap(BENCH_USER) })
  return {
    dovecot,
    databaseEnv: database.env,
    sql,
    service,
    tenant,
    imap,
    close: async () => {
      await service.stop()
      await sql.end()
      await database.drop()
      await dovecot.destroy()
    }
  }
}

/** Seconds from `from` until the message with that Message-ID is stored. */
async function storedAfter (sql: pg.Pool, messageId: string, from: number, ms = 400_000): Promise<number> {
  let at = 0
  await until(`message ${messageId}`, ms, async () => {
    const row = (await sql.query('select received_at from messages where message_id_header = $1', [`<${messageId}>`])).rows[0] as { received_at: Date } | undefined
    if (row !== undefined) at = row.received_at.getTime()
    return row !== undefined
  }, 20)
  return Math.round((at - from) / 10) / 100
}

async function detection (r: Rig, server: ImapServer, plan: ImapPlan, shared: Shared, report: (line: string) => void): Promise<{ inbox: Percentiles, junk: Percentiles }> {
  const appender = new ImapFlow({ host: r.dovecot.host, port: r.dovecot.port, secure: false, auth: { user: BENCH_USER, pass: PASSWORD }, logger: false })
  appender.on('error', () => {})
  await appender.connect()
  try {
    const appended = new Map<string, { folder: string, at: number }>()
    const append = async (folder: string, gapMs: () => number): Promise<void> => {
      for (let i = 0; i < plan.messages; i++) {
        const raw = await benchMessage('small', LETTER, shared.key, `imap-${server.replace(' ', '-')}-${folder}-${i}`)
        const id = messageIdOf(raw)
        await appender.append(folder, raw, [], new Date())
        appended.set(id, { folder, at: Date.now() })
        await sleep(gapMs())
      }
    }
    report(`IMAP (${server}): appending ${plan.messages} messages to INBOX, then ${plan.messages} to Junk over two sweep intervals`)
    await append('INBOX', () => 50 + Math.random() * 100)
    await append('Junk', () => 2 * plan.intervalS * 1000 / plan.messages)
    const latencies: Record<string, number[]> = { INBOX: [], Junk: [] }
    await until('every appended message to be stored', (plan.intervalS * 3 + 30) * 1000, async () => {
      const rows = (await r.sql.query('select message_id_header, received_at from messages where mailbox_id = $1', [r.tenant.mailboxId])).rows as Array<{ message_id_header: string | null, received_at: Date }>
      latencies.INBOX = []
      latencies.Junk = []
      let found = 0
      for (const row of rows) {
        const sent = appended.get(normalise(row.message_id_header))
        if (sent === undefined) continue
        found++
        latencies[sent.folder]?.push(row.received_at.getTime() - sent.at)
      }
      return found === appended.size
    })
    const inbox = percentiles(latencies.INBOX ?? [])
    const junk = percentiles(latencies.Junk ?? [])
    report(`IMAP detection (${server}): INBOX p50 ${inbox.p50} ms p99 ${inbox.p99} ms; Junk p50 ${junk.p50} ms p99 ${junk.p99} ms`)
    return { inbox, junk }
  } finally {
    await appender.logout().catch(() => {})
  }
}

/** Saves mailboxes one at a time, then new settings for each: how soon each is swept after the API answered. */
async function pickups (r: Rig, plan: ImapPlan, report: (line: string) => void): Promise<ImapReport['pickup']> {
  const sweptAt = async (id: string): Promise<number | null> => ((await r.sql.query('select imap_last_swept_at from mailboxes where id = $1', [id])).rows[0] as { imap_last_swept_at: Date | null } | undefined)?.imap_last_swept_at?.getTime() ?? null
  const created: number[] = []
  const changed: number[] = []
  for (let i = 1; i <= plan.pickups; i++) {
    const mailbox = await r.tenant.api.call('POST', '/api/v1/mailboxes', { address: `pickup${i}@acme.example`, imap: r.imap(`box${i}@acme.example`) })
    const saved = Date.now()
    const id = String(mailbox.id)
    await until('a new mailbox to be swept', 60_000, async () => (await sweptAt(id)) !== null, 10)
    created.push(((await sweptAt(id)) ?? saved) - saved)
    await r.tenant.api.call('PATCH', `/api/v1/mailboxes/${id}`, { imap: r.imap(`box${i}@acme.example`) })
    const resaved = Date.now()
    await until('new settings to be used', 60_000, async () => ((await sweptAt(id)) ?? 0) > resaved, 10)
    changed.push(((await sweptAt(id)) ?? resaved) - resaved)
    await r.tenant.api.call('DELETE', `/api/v1/mailboxes/${id}`)
  }
  const result = { created: percentiles(created), changed: percentiles(changed) }
  report(`IMAP pickup: a new mailbox swept p50 ${result.created.p50} ms max ${result.created.max} ms after saving; new settings p50 ${result.changed.p50} ms max ${result.changed.max} ms`)
  return result
}

/** Each fault once, with the one watched mailbox: the five-minute limit must hold through them. */
async function faults (r: Rig, plan: ImapPlan, shared: Shared, report: (line: string) => void): Promise<ImapReport['faults']> {
  const results: ImapReport['faults'] = []
  const message = async (name: string): Promise<{ raw: Buffer, id: string }> => {
    const raw = await benchMessage('small', LETTER, shared.key, `imap-fault-${name}`)
    return { raw, id: messageIdOf(raw) }
  }
  {
    const { raw, id } = await message('kicked')
    await r.dovecot.kick(BENCH_USER)
    const at = Date.now()
    await r.dovecot.append(BENCH_USER, 'INBOX', raw)
    results.push({ fault: 'connection dropped by the server, mail in INBOX right after', seconds: await storedAfter(r.sql, id, at) })
  }
  {
    const { raw, id } = await message('restart')
    // Sessions are ended first: Dovecot's master stopping leaves a running imap process serving its client.
    await r.dovecot.kick(BENCH_USER)
    await r.dovecot.stop()
    await r.dovecot.deliver(BENCH_USER, 'INBOX', raw)
    // Down long enough for the reconnect backoff to grow.
    await sleep(plan.serverDownS * 1000)
    const back = Date.now()
    await r.dovecot.start()
    results.push({ fault: `server down ${plan.serverDownS} s, mail delivered meanwhile (from its restart)`, seconds: await storedAfter(r.sql, id, back) })
  }
  {
    const { raw, id } = await message('uidvalidity')
    await r.dovecot.recreate(BENCH_USER, 'Junk')
    const at = Date.now()
    await r.dovecot.append(BENCH_USER, 'Junk', raw)
    results.push({ fault: 'Junk deleted and created again (new UIDVALIDITY), mail in it', seconds: await storedAfter(r.sql, id, at) })
  }
  for (const f of results) report(`IMAP fault: ${f.fault}: stored after ${f.seconds} s`)
  return results
}

async function takeover (r: Rig, count: number, plan: ImapPlan, shared: Shared, report: (line: string) => void): Promise<ImapReport['takeover']> {
  const { service: second } = await startMailrun('postgres', { ...r.databaseEnv, MAILRUN_SWEEP_INTERVAL_S: String(plan.intervalS), MAILRUN_ADMIN_RATE_LIMIT: '100000' }, shared, plan.workDir)
  try {
    await sleep(Math.min(10, plan.intervalS) * 1000)
    const firstPid = String(r.service.child.pid)
    const held = (await r.sql.query('select count(*)::int as n from imap_leases where holder like $1', [`%:${firstPid}:%`])).rows[0] as { n: number }
    r.service.child.kill('SIGKILL')
    const killed = Date.now()
    report(`IMAP takeover: first instance (holding ${held.n} of ${count}) killed; waiting for the second to sweep every mailbox`)
    await until('the second instance to sweep every mailbox', 120_000, async () => {
      const row = (await r.sql.query('select count(*)::int as n from mailboxes where imap is not null and imap_last_swept_at > $1', [new Date(killed)])).rows[0] as { n: number }
      return row.n >= count
    }, 100)
    const seconds = Math.round((Date.now() - killed) / 100) / 10
    report(`IMAP takeover: every mailbox swept by the second instance ${seconds} s after the first was killed`)
    return { mailboxes: count, heldByFirst: held.n, seconds }
  } finally {
    await second.stop()
  }
}

export async function benchImap (plan: ImapPlan, shared: Shared, report: (line: string) => void): Promise<ImapReport> {
  if (!existsSync('/usr/sbin/dovecot')) throw new Error('the IMAP benchmark needs Dovecot: apt-get install -y dovecot-imapd (or run with --only push)')
  const most = Math.max(...plan.mailboxCounts)
  const users: Record<string, string> = { [BENCH_USER]: PASSWORD }
  for (let i = 1; i < Math.max(most, plan.pickups + 1); i++) users[`box${i}@acme.example`] = PASSWORD

  const results: ImapReport['detection'] = []
  const polled = await rig('no NOTIFY', { [BENCH_USER]: PASSWORD }, plan, shared, 1)
  try {
    await until('the first sweep', 60_000, async () => await sweptCount(polled.sql) >= 1)
    results.push({ server: 'no NOTIFY', ...await detection(polled, 'no NOTIFY', plan, shared, report) })
  } finally {
    await polled.close()
  }

  const r = await rig('NOTIFY', users, plan, shared, most + plan.pickups)
  try {
    const swept = async (): Promise<number> => await sweptCount(r.sql)
    await until('the first sweep', 60_000, async () => await swept() >= 1)
    results.unshift({ server: 'NOTIFY', ...await detection(r, 'NOTIFY', plan, shared, report) })
    const pickup = await pickups(r, plan, report)
    const faultResults = await faults(r, plan, shared, report)

    const mailboxes: ImapReport['mailboxes'] = []
    let created = 1
    for (const count of plan.mailboxCounts) {
      for (; created < count; created++) await r.tenant.api.call('POST', '/api/v1/mailboxes', { address: `box${created}@acme.example`, imap: r.imap(`box${created}@acme.example`) })
      await until(`${count} mailboxes swept`, 300_000, async () => await swept() >= count)
      report(`IMAP: ${count} mailboxes connected and swept; idle for ${plan.idleS} s`)
      const idle = await idleSample(r.service, plan.idleS)
      mailboxes.push({ count, connected: await swept(), ...idle })
      report(`IMAP: ${count} mailboxes: RSS ${idle.rssMb} MB, CPU ${idle.cpuPercent} % of a core`)
    }
    const taken = await takeover(r, await swept(), plan, shared, report)
    return { intervalS: plan.intervalS, idleS: plan.idleS, messages: plan.messages, detection: results, pickup, faults: faultResults, mailboxes, takeover: taken }
  } finally {
    await r.close()
  }
}
