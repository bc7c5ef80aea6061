import { existsSync } from 'node:fs'
import { ImapFlow } from 'imapflow'
import pg from 'pg'
import { launchDovecot } from '../tests/support/dovecot.js'
import { benchMessage } from './support/messages.js'
import { percentiles, type Percentiles } from './support/load.js'
import { idleSample } from './support/processes.js'
import { freshDatabase } from './support/targets.js'
import { LETTER, setUpTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

export interface ImapPlan {
  messages: number
  intervalS: number
  mailboxCounts: number[]
  idleS: number
  workDir: string
}

export interface ImapReport {
  intervalS: number
  idleS: number
  messages: number
  inbox: Percentiles
  junk: Percentiles
  mailboxes: Array<{ count: number, connected: number, rssMb: number, cpuPercent: number }>
}

const PASSWORD = 'bench-imap-password'
// The recipe's limits suit a test; a thousand watched mailboxes need a thousand IMAP sessions.
const MANY_CONNECTIONS = `
default_process_limit = 3000
default_client_limit = 10000
mail_max_userip_connections = 50
service anvil {
  client_limit = 10000
}
`

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const normalise = (id: string | null): string => (id ?? '').replace(/^<|>$/g, '').toLowerCase()

async function until (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`IMAP bench: timed out waiting for ${what}`)
    await sleep(200)
  }
}

export async function benchImap (plan: ImapPlan, shared: Shared, report: (line: string) => void): Promise<ImapReport> {
  if (!existsSync('/usr/sbin/dovecot')) throw new Error('the IMAP benchmark needs Dovecot: apt-get install -y dovecot-imapd (or run with --only push)')
  const most = Math.max(...plan.mailboxCounts)
  const users: Record<string, string> = { 'bench@acme.example': PASSWORD }
  for (let i = 1; i < most; i++) users[`box${i}@acme.example`] = PASSWORD
  const dovecot = await launchDovecot(users, MANY_CONNECTIONS)
  const database = await freshDatabase('postgres')
  const sql = new pg.Pool({ connectionString: database.env.DATABASE_URL, max: 2 })
  const { service } = await startMailrun('postgres', { ...database.env, MAILRUN_SWEEP_INTERVAL_S: String(plan.intervalS), MAILRUN_ADMIN_RATE_LIMIT: '100000' }, shared, plan.workDir)
  const appender = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: 'bench@acme.example', pass: PASSWORD }, logger: false })
  try {
    const imap = (user: string): Record<string, unknown> => ({ host: dovecot.host, port: dovecot.port, tls: false, user, password: PASSWORD })
    const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: shared.simulator.url, smtpPort: shared.smtpPort, maxMailboxes: most, imap: imap('bench@acme.example') })
    const swept = async (): Promise<number> => Number((await sql.query('select count(*) from mailboxes where imap_last_swept_at is not null')).rows[0].count)
    await until('the first sweep', 60_000, async () => await swept() >= 1)
    // An idle client's socket times out while the mailboxes are measured: that must not end the run.
    appender.on('error', () => {})
    await appender.connect()

    const appended = new Map<string, { folder: string, at: number }>()
    const append = async (folder: string, gapMs: () => number): Promise<void> => {
      for (let i = 0; i < plan.messages; i++) {
        const raw = await benchMessage('small', LETTER, shared.key, `imap-${folder}-${i}`)
        const id = normalise(/^Message-ID: (.*)$/mi.exec(raw.toString('latin1'))?.[1] ?? null)
        await appender.append(folder, raw, [], new Date())
        appended.set(id, { folder, at: Date.now() })
        await sleep(gapMs())
      }
    }
    report(`IMAP: appending ${plan.messages} messages to INBOX, then ${plan.messages} to Junk over two sweep intervals`)
    await append('INBOX', () => 50 + Math.random() * 100)
    await append('Junk', () => 2 * plan.intervalS * 1000 / plan.messages)
    await appender.logout()
    const latencies: Record<string, number[]> = { INBOX: [], Junk: [] }
    await until('every appended message to be stored', (plan.intervalS * 3 + 30) * 1000, async () => {
      const rows = (await sql.query('select message_id_header, received_at from messages where mailbox_id = $1', [tenant.mailboxId])).rows as Array<{ message_id_header: string | null, received_at: Date }>
      if (rows.length < appended.size) return false
      latencies.INBOX = []
      latencies.Junk = []
      for (const row of rows) {
        const sent = appended.get(normalise(row.message_id_header))
        if (sent !== undefined) latencies[sent.folder]?.push(row.received_at.getTime() - sent.at)
      }
      return true
    })
    const inbox = percentiles(latencies.INBOX ?? [])
    const junk = percentiles(latencies.Junk ?? [])
    report(`IMAP detection: INBOX p50 ${inbox.p50} ms p99 ${inbox.p99} ms; Junk p50 ${junk.p50} ms p99 ${junk.p99} ms`)

    const mailboxes: ImapReport['mailboxes'] = []
    let created = 1
    for (const count of plan.mailboxCounts) {
      for (; created < count; created++) await tenant.api.call('POST', '/api/v1/mailboxes', { address: `box${created}@acme.example`, imap: imap(`box${created}@acme.example`) })
      await until(`${count} mailboxes swept`, 300_000, async () => await swept() >= count)
      report(`IMAP: ${count} mailboxes connected and swept; idle for ${plan.idleS} s`)
      const idle = await idleSample(service, plan.idleS)
      mailboxes.push({ count, connected: await swept(), ...idle })
      report(`IMAP: ${count} mailboxes: RSS ${idle.rssMb} MB, CPU ${idle.cpuPercent} % of a core`)
    }
    return { intervalS: plan.intervalS, idleS: plan.idleS, messages: plan.messages, inbox, junk, mailboxes }
  } finally {
    await appender.logout().catch(() => {})
    await service.stop()
    await sql.end()
    await database.drop()
    await dovecot.destroy()
  }
}
