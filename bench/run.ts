import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, hostname, tmpdir, totalmem } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { repoRoot } from '../tests/support/process.js'
import { dkimKey } from '../tests/support/mail.js'
import { startOrchestratorSimulator } from '../src/simulator/orchestrator.js'
import { startSmtpCatcher } from '../src/simulator/mail-catcher.js'
import { benchConsole, type ConsoleReport } from './console.js'
import { benchDoors, type DoorsPlan, type DoorsReport } from './doors.js'
import { benchImap, type ImapPlan, type ImapReport } from './imap.js'
import { benchBaseline, benchPush, currentNodeFlags, useNodeFlags, type BaselineReport, type PushPlan, type PushReport, type Shared } from './push.js'
import { startDnsServer } from '../tests/support/dns-server.js'
import { LoadGenerator } from './support/load.js'
import { formatReport, type BenchReport } from './support/report.js'
import { postgresVersion, type DatabaseKind } from './support/targets.js'
import { benchRows, type RowsPlan, type RowsReport } from './rows.js'
import { benchAlerts, type AlertsReport } from './alerts.js'
import { benchPlatforms, type PlatformsReport } from './platforms.js'
import { benchOutcomes, type OutcomesReport } from './outcomes.js'

// npm run bench: how fast mailrun is, against the plain limits of this machine, in one run.
// `npm run bench -- --smoke` runs every part for a second or two (CI); `--only push|big|alongside|console|imap|doors|rows|alerts|platforms|outcomes`
// (big: only the three large messages, after a warm-up; a minute instead of ten; alongside: only small
// messages beside 5 MB ones, after a warm-up),
// `--db pglite|postgres` narrow it; `--cpu-prof` writes V8 CPU profiles of mailrun to bench/profiles;
// mailrun runs with the node flags of `npm start` (package.json), or `--node-flags "…"` instead.

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    db: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    'node-flags': { type: 'string' }
  }
})
const smoke = args.smoke === true
const databases: DatabaseKind[] = args.db !== undefined ? args.db.split(',') as DatabaseKind[] : ['postgres', 'pglite']
const parts = args.only !== undefined ? args.only.split(',') : ['push', 'console', 'imap', 'doors', 'rows', 'alerts', 'platforms', 'outcomes']

const workDir = await mkdtemp(path.join(tmpdir(), 'mailrun-bench-'))
const profileDir = path.join(repoRoot, 'bench/profiles')
if (args['node-flags'] !== undefined) useNodeFlags(args['node-flags'].split(/\s+/).filter((flag) => flag !== ''))
if (args['cpu-prof'] === true) await mkdir(profileDir, { recursive: true })

const pushPlan: PushPlan = smoke
  ? { rates: [20], durationS: 1, concurrency: 4, settleS: 1, mix: [{ kind: 'html', concurrency: 2, maxMessages: 4 }, { kind: 'attachment', concurrency: 1, maxMessages: 2 }], saturation: true, big: { messages: 1, attachmentBytes: 1024 * 1024 }, workDir, nodeArgs: [], alongside: { rate: 10 } }
  : { rates: [50, 200, 1000], durationS: 10, concurrency: 16, settleS: 10, mix: [{ kind: 'html', concurrency: 8, maxMessages: 3000 }, { kind: 'attachment', concurrency: 2, maxMessages: 60 }], saturation: true, big: { messages: 3, attachmentBytes: 25 * 1024 * 1024 }, workDir, nodeArgs: [], alongside: { rate: 50 } }
if (parts.includes('big') && !parts.includes('push')) Object.assign(pushPlan, { rates: [], mix: [], saturation: false, settleS: 3, alongside: null })
if (parts.includes('alongside') && !parts.includes('push')) Object.assign(pushPlan, { rates: [], mix: [], saturation: false, settleS: 3, big: parts.includes('big') ? pushPlan.big : { messages: 0, attachmentBytes: 0 } })
if (args.duration !== undefined) pushPlan.durationS = Number(args.duration)
if (args.concurrency !== undefined) pushPlan.concurrency = Number(args.concurrency)
if (args['cpu-prof'] === true) pushPlan.nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]

const imapPlan: ImapPlan = smoke
  ? { messages: 5, intervalS: 5, mailboxCounts: [10], idleS: 5, pickups: 2, serverDownS: 3, workDir }
  : { messages: 200, intervalS: 30, mailboxCounts: [100, 1000], idleS: 60, pickups: 20, serverDownS: 20, workDir }

const rowsPlan: RowsPlan = { rows: smoke ? 500 : 10_000, workDir }
const doorsPlan: DoorsPlan = smoke ? { messages: 3, intervalS: 3, workDir } : { messages: 50, intervalS: 30, workDir }

const log = (line: string): void => { process.stderr.write(`  ${line}\n`) }
const key = dkimKey('finance.example')
const dns = await startDnsServer({ [`${key.selector}._domainkey.${key.domain}`]: key.txt, [`_dmarc.${key.domain}`]: 'v=DMARC1; p=reject', [key.domain]: 'v=spf1 ip4:127.0.0.1 -all' })
const simulator = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
const smtp = await startSmtpCatcher()
const load = new LoadGenerator()
const shared: Shared = { load, simulator, smtpPort: smtp.port, dnsServers: dns.address, key }

const report: BenchReport = {
  startedAt: new Date().toISOString(),
  smoke,
  nodeFlags: currentNodeFlags(),
  machine: { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: await postgresVersion().catch(() => 'unreachable') },
  push: [] as PushReport[],
  baselines: [] as BaselineReport[],
  imap: null as ImapReport | null,
  console: [] as ConsoleReport[],
  doors: null as DoorsReport | null,
  rows: null as RowsReport | null,
  alerts: null as AlertsReport | null,
  platforms: null as PlatformsReport | null,
  outcomes: null as OutcomesReport | null
}

try {
  if (parts.includes('push') || parts.includes('big') || parts.includes('alongside')) {
    const baselines = parts.includes('push')
    if (baselines) {
      log('baseline: bare route, mailparser only')
      report.baselines.push(await benchBaseline('parse', null, pushPlan, shared))
    }
    for (const kind of databases) {
      if (baselines) {
        log(`baseline: bare route, mailparser + insert (${kind})`)
        report.baselines.push(await benchBaseline('insert', kind, pushPlan, shared))
        log(`baseline: the essential work — parse, DKIM/DMARC, insert, StartJobs, reply row (${kind})`)
        report.baselines.push(await benchBaseline('essential', kind, pushPlan, shared))
      }
      log(`mailrun push path on ${kind}`)
      report.push.push(await benchPush(kind, pushPlan, shared, log))
    }
  }
  if (parts.includes('console')) {
    for (const kind of databases) {
      log(`console pages with ${smoke ? 2000 : 100000} messages stored (${kind})`)
      const measured = await benchConsole(kind, shared, workDir, { messages: smoke ? 2000 : 100_000, rounds: smoke ? 3 : 20 }, log)
      report.console = [...(report.console ?? []), measured]
    }
  }
  if (parts.includes('imap')) {
    log('IMAP: detection latency and mailboxes at rest (PostgreSQL)')
    report.imap = await benchImap(imapPlan, shared, log)
  }
  if (parts.includes('doors')) {
    log('doors: detection latency of the raw MIME door, the SMTP door, Graph push and its delta fallback (PostgreSQL)')
    report.doors = await benchDoors(doorsPlan, shared, log)
  }
  if (parts.includes('rows')) {
    log(`rows: a spreadsheet of ${rowsPlan.rows} rows to a queue robot, CSV and XLSX`)
    report.rows = await benchRows(databases, rowsPlan, shared, log)
  }
  if (parts.includes('alerts')) {
    log('alerts: from a real cause to the delivered alert, for each event (PostgreSQL)')
    report.alerts = await benchAlerts({ afterS: smoke ? 1 : 5, full: !smoke, workDir }, shared, log)
  }
  if (parts.includes('platforms')) {
    log('platforms: the same email to a robot on UiPath, an HTTP target, Power Automate and Automation Anywhere (PostgreSQL)')
    report.platforms = await benchPlatforms({ emails: smoke ? 3 : 100, workDir }, shared, log)
  }
  if (parts.includes('outcomes')) {
    log('outcomes: how soon a job\'s end is known without a webhook, and the collection reads of many running jobs (PostgreSQL)')
    report.outcomes = await benchOutcomes({ running: smoke ? 40 : 500, watchS: smoke ? 3 : 70, workDir }, shared, log)
  }
} finally {
  load.close()
  await smtp.close()
  await simulator.close()
  await dns.close()
  await rm(workDir, { recursive: true, force: true })
}

process.stdout.write(formatReport(report))
const resultsDir = smoke ? tmpdir() : path.join(repoRoot, 'bench/results')
await mkdir(resultsDir, { recursive: true })
const file = path.join(resultsDir, `${smoke ? 'mailrun-bench-smoke-' : ''}${report.startedAt.replace(/[:.]/g, '-')}.json`)
await writeFile(file, JSON.stringify(report, null, 2) + '\n')
process.stdout.write(`\nresults: ${path.relative(repoRoot, file).startsWith('..') ? file : path.relative(repoRoot, file)}\n`)
