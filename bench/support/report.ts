import type { DoorsReport } from '../doors.js'
import type { RowsReport } from '../rows.js'
import type { AlertsReport } from '../alerts.js'
import type { PlatformsReport } from '../platforms.js'
import type { OutcomesReport } from '../outcomes.js'
import type { ImapReport } from '../imap.js'
import type { ConsoleReport } from '../console.js'
import type { BaselineReport, PushReport } from '../push.js'

export interface BenchReport {
  startedAt: string
  smoke: boolean
  /** The node flags mailrun ran with (those of `npm start` unless --node-flags said otherwise). */
  nodeFlags?: string[]
  machine: { host: string, cpu: string, cores: number, memoryGiB: number, node: string, postgres: string }
  push: PushReport[]
  baselines: BaselineReport[]
  imap: ImapReport | null
  console?: ConsoleReport[]
  doors?: DoorsReport | null
  rows?: RowsReport | null
  alerts?: AlertsReport | null
  platforms?: PlatformsReport | null
  outcomes?: OutcomesReport | null
  targets?: Target[]
}

export interface Target { what: string, goal: string, measured: string, met: boolean }

function table (header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]): string => `| ${r.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join(' | ')} |`
  return [line(header), `|${widths.map((w, i) => i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`).join('|')}|`, ...cells.slice(1).map(line)].join('\n')
}

const dbName = (kind: string): string => kind === 'postgres' ? 'PostgreSQL' : 'PGlite'

/** The targets issues #8 and #18 set, checked against this run. */
export function checkTargets (report: BenchReport): Target[] {
  const targets: Target[] = []
  const parseOnly = report.baselines.find((b) => b.baseline === 'parse')?.result.throughput
  for (const push of report.push) {
    const at200 = push.steps.find((s) => s.step === '200/s')
    const essentialAt200 = report.baselines.find((b) => b.baseline === 'essential' && b.database === push.database)?.at200
    if (push.database === 'postgres' && at200 !== undefined) targets.push({ what: 'push p99 at 200 msg/s (PostgreSQL)', goal: '≤ 25 ms', measured: `${at200.result.latencyMs.p99} ms${essentialAt200 !== undefined ? ` (essential route: ${essentialAt200.latencyMs.p99} ms)` : ''}`, met: at200.result.latencyMs.p99 <= 25 })
    const saturation = push.steps.find((s) => s.step === 'saturation')
    if (push.database === 'postgres' && saturation !== undefined && parseOnly !== undefined) {
      const ratio = saturation.result.throughput / parseOnly
      targets.push({ what: `push throughput / parse-only route (${push.database})`, goal: '≥ 0.25', measured: `${ratio.toFixed(2)} (${saturation.result.throughput} / ${parseOnly} msg/s)`, met: ratio >= 0.25 })
    }
    const big = push.big
    if (big !== undefined && big.messages > 1) {
      const db = push.database === 'postgres' ? 'PostgreSQL' : 'PGlite'
      const slowest = Math.max(...big.answersMs)
      targets.push({ what: `${big.messages} × ${big.messageMb} MB messages at once, each answered (${db})`, goal: '≤ 5 s', measured: `${(slowest / 1000).toFixed(2)} s`, met: slowest <= 5000 && big.statuses.every((s) => s === 200) })
      targets.push({ what: `/healthz during them (${db})`, goal: '≤ 250 ms', measured: `${big.healthzMaxMs} ms`, met: big.healthzMaxMs <= 250 })
      const ceiling = Math.round(big.idleRssMb + 4 * big.messageMb)
      targets.push({ what: `peak RSS during them (${db})`, goal: `≤ idle + 4 × size = ${ceiling} MB`, measured: `${big.peakRssMb} MB`, met: big.peakRssMb <= ceiling })
    }
    const beside = push.steps.find((s) => s.step === 'small beside attachments')
    if (beside !== undefined) targets.push({ what: `small messages' p99 with 5 MB attachments posted beside them (${dbName(push.database)}, ${String(beside.rate)} msg/s)`, goal: '≤ 50 ms', measured: `${beside.result.latencyMs.p99} ms`, met: beside.result.latencyMs.p99 <= 50 })
    const at1000 = push.steps.find((s) => s.step === '1000/s')
    if (at1000 !== undefined) {
      const launched = at1000.result.outcomes['accepted launched'] ?? 0
      const wrong = at1000.result.completed - launched + at1000.result.errors
      targets.push({ what: `1,000 msg/s offered: no error, every message launched once (${dbName(push.database)})`, goal: '0 errors, StartJobs = launches', measured: `${wrong} not launched of ${at1000.result.completed}; StartJobs ${push.jobsStarted} for ${push.launchesReported} launches (whole run)`, met: wrong === 0 && at1000.result.completed > 0 && push.jobsStarted === push.launchesReported })
    }
    const essential = report.baselines.find((b) => b.baseline === 'essential' && b.database === push.database)
    if (essential !== undefined && saturation !== undefined) {
      const ratio = saturation.result.throughput / essential.result.throughput
      // The CPU a message costs each, beside: throughput on this shared machine moves with its neighbours, CPU a message less.
      const database = saturation.perMessage?.databaseCpuMs !== undefined && essential.databaseCpuMsPerMessage !== undefined ? `, PostgreSQL's ${saturation.perMessage.databaseCpuMs} / ${essential.databaseCpuMsPerMessage} ms` : ''
      const cpu = saturation.perMessage !== undefined && essential.cpuMsPerMessage !== undefined ? `; CPU a message ${saturation.perMessage.cpuMs} / ${essential.cpuMsPerMessage} ms${database}` : ''
      targets.push({ what: `push throughput / the essential-work route (${dbName(push.database)})`, goal: '≥ 0.6', measured: `${ratio.toFixed(2)} (${saturation.result.throughput} / ${essential.result.throughput} msg/s${cpu})`, met: ratio >= 0.6 })
    }
    if (push.database === 'pglite' && at200 !== undefined) {
      const kept = at200.result.throughput >= 190
      targets.push({ what: 'push at 200 msg/s (PGlite): sustained, p99', goal: '≥ 190 msg/s, ≤ 100 ms', measured: `${at200.result.throughput} msg/s, ${at200.result.latencyMs.p99} ms${essential?.at200 !== undefined ? ` (essential route: ${essential.at200.latencyMs.p99} ms)` : ''}`, met: kept && at200.result.latencyMs.p99 <= 100 })
    }
    const ownInsert = report.baselines.find((b) => b.baseline === 'insert' && b.database === 'pglite')?.result.throughput
    if (push.database === 'pglite' && saturation !== undefined && ownInsert !== undefined) {
      const ratio = saturation.result.throughput / ownInsert
      targets.push({ what: 'push throughput / its own mailparser + insert route (PGlite)', goal: '≥ 0.5', measured: `${ratio.toFixed(2)} (${saturation.result.throughput} / ${ownInsert} msg/s)`, met: ratio >= 0.5 })
    }
    const firstStart = push.startup.find((s) => s.what.startsWith('first start'))
    if (push.database === 'pglite' && firstStart !== undefined) targets.push({ what: 'RSS at first start (PGlite)', goal: '≤ 450 MB', measured: `${firstStart.rssMb} MB`, met: firstStart.rssMb <= 450 })
    const limit = push.database === 'postgres' ? 120 : 300
    targets.push({ what: `idle RSS (${push.database === 'postgres' ? 'PostgreSQL' : 'PGlite, reopened data dir'})`, goal: `≤ ${limit} MB`, measured: `${push.idle.rssMb} MB`, met: push.idle.rssMb <= limit })
  }
  for (const c of report.console ?? []) {
    const db = c.database === 'postgres' ? 'PostgreSQL' : 'PGlite'
    for (const p of c.pages.filter((p) => p.page === '/console' || p.page === '/console/messages')) {
      targets.push({ what: `console ${p.page === '/console' ? 'dashboard' : 'messages list'}, ${c.messages} messages stored (${db})`, goal: '≤ 100 ms (p95)', measured: `${p.p95Ms} ms`, met: p.p95Ms <= 100 })
    }
  }
  for (const d of report.doors?.doors ?? []) {
    if (d.door === 'SMTP door') targets.push({ what: 'SMTP door detection p99', goal: '≤ 1 s', measured: `${(d.latency.p99 / 1000).toFixed(2)} s`, met: d.latency.p99 <= 1000 })
    if (d.door === 'Graph push') targets.push({ what: 'Graph push detection p99 (notification → stored)', goal: '≤ 2 s', measured: `${(d.latency.p99 / 1000).toFixed(2)} s`, met: d.latency.p99 <= 2000 })
    if (d.door.startsWith('Graph delta')) {
      const limit = (report.doors?.intervalS ?? 0) + 5
      targets.push({ what: 'Graph detection p99 without a notification (delta pass)', goal: `≤ ${limit} s (interval + 5 s)`, measured: `${(d.latency.p99 / 1000).toFixed(2)} s`, met: d.latency.p99 <= limit * 1000 })
    }
  }
  for (const r of report.rows?.runs ?? []) {
    if ((report.rows?.rows ?? 0) >= 10_000) targets.push({ what: `${report.rows?.rows ?? 0} spreadsheet rows → queue items, ${r.file.toUpperCase()} (${r.database === 'postgres' ? 'PostgreSQL' : 'PGlite'})`, goal: '≤ 10 s', measured: `${r.seconds} s`, met: r.seconds <= 10 && r.added === report.rows?.rows })
  }
  const imap = report.imap
  if (imap !== null) {
    for (const d of imap.detection) {
      targets.push({ what: `IMAP detection p99, INBOX (IDLE), server with ${d.server}`, goal: '≤ 0.5 s', measured: `${(d.inbox.p99 / 1000).toFixed(2)} s`, met: d.inbox.p99 <= 500 })
      targets.push({ what: `IMAP detection p99, Junk, server with ${d.server}`, goal: '≤ 10 s', measured: `${(d.junk.p99 / 1000).toFixed(2)} s`, met: d.junk.p99 <= 10_000 })
    }
    targets.push({ what: 'a new IMAP mailbox watched after saving (max)', goal: '≤ 1 s', measured: `${(imap.pickup.created.max / 1000).toFixed(2)} s`, met: imap.pickup.created.max <= 1000 })
    targets.push({ what: 'new IMAP settings in use after saving (max)', goal: '≤ 1 s', measured: `${(imap.pickup.changed.max / 1000).toFixed(2)} s`, met: imap.pickup.changed.max <= 1000 })
    const worst = Math.max(...imap.faults.map((f) => f.seconds))
    if (imap.faults.length > 0) targets.push({ what: 'IMAP detection through faults (worst case)', goal: '≤ 300 s', measured: `${worst} s`, met: worst <= 300 })
    const most = imap.mailboxes.at(-1)
    if (most !== undefined) {
      targets.push({ what: `RSS with ${most.count} IMAP mailboxes`, goal: '≤ 150 MB', measured: `${most.rssMb} MB`, met: most.rssMb <= 150 })
      targets.push({ what: `idle CPU with ${most.count} IMAP mailboxes`, goal: '≤ 5 % of a core', measured: `${most.cpuPercent} %`, met: most.cpuPercent <= 5 })
    }
    if (imap.takeover !== null) targets.push({ what: `takeover of ${imap.takeover.mailboxes} IMAP mailboxes from a killed instance`, goal: '≤ 30 s', measured: `${imap.takeover.seconds} s`, met: imap.takeover.seconds <= 30 })
  }
  return targets
}

export function formatReport (report: BenchReport): string {
  const out: string[] = []
  const m = report.machine
  out.push(`\nmailrun benchmark${report.smoke ? ' (SMOKE: too short to mean anything)' : ''}, ${report.startedAt}`)
  out.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}; load generator, simulator and databases on the same machine${report.nodeFlags !== undefined ? `; mailrun ran as node ${[...report.nodeFlags, 'dist/src/server.js'].join(' ')}` : ''}\n`)
  if (report.push.length > 0) {
    out.push('Push path: raw MIME door → stored → DKIM/DMARC → authorized → parsed → StartJobs at the simulator → door answers (latency from when each request was due)\n')
    const rows = report.push.flatMap((p) => p.steps.map((s) => [p.database, s.kind, `${s.rate === 'max' ? 'saturation' : `${s.rate}/s`}${s.step.includes('beside') ? ` (beside ${s.kind === 'small' ? '5 MB ones' : 'small ones'})` : ''}`, s.result.throughput, s.result.latencyMs.p50, s.result.latencyMs.p95, s.result.latencyMs.p99, s.result.latencyMs.max, s.peakRssMb, s.perMessage?.cpuMs ?? '', s.perMessage?.databaseCpuMs ?? '', s.perMessage?.statements ?? '', s.pauses?.loopDelayMaxMs ?? '', s.pauses === undefined ? '' : `${s.pauses.gcMs} (${s.pauses.gcMajorMs})`, Object.entries(s.result.outcomes).map(([k, v]) => `${k} ${v}`).join(', ') + (s.result.errors > 0 ? `, errors ${s.result.errors}` : '')]))
    if (rows.length > 0) out.push(table(['database', 'message', 'offered', 'msg/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'peak RSS MB', 'CPU ms/msg', 'PostgreSQL CPU ms/msg', 'statements/msg', 'loop delay max ms', 'GC ms (full)', 'door answers'], rows))
    if (report.baselines.length > 0) {
      out.push('\nThe plain limits, same run (saturation, small message):\n')
      out.push(table(['route', 'msg/s', 'p50 ms', 'p99 ms', 'CPU ms/msg', 'PostgreSQL CPU ms/msg', 'mailrun / route (same database)'], report.baselines.map((b) => {
        const push = report.push.find((p) => b.database === null || p.database === b.database)
        const sat = (b.database === null ? report.push : [push]).flatMap((p) => p?.steps.filter((s) => s.step === 'saturation').map((s) => `${p.database} ${(s.result.throughput / b.result.throughput).toFixed(2)}`) ?? [])
        const route = b.baseline === 'parse' ? 'bare route: mailparser only' : b.baseline === 'insert' ? `bare route: mailparser + insert (${String(b.database)})` : `essential work: parse, DKIM/DMARC, insert, StartJobs, reply row (${String(b.database)}); p99 at 200/s ${b.at200?.latencyMs.p99 ?? '–'} ms`
        return [route, b.result.throughput, b.result.latencyMs.p50, b.result.latencyMs.p99, b.cpuMsPerMessage ?? '', b.databaseCpuMsPerMessage ?? '', sat.join(', ')]
      })))
    }
    out.push('\nMemory and start-up:\n')
    out.push(table(['database', 'moment', 'ready s', 'RSS MB', 'CPU % of a core'], report.push.flatMap((p) => [
      ...p.startup.map((s) => [p.database, s.what, s.readyS, s.rssMb, '']),
      [p.database, 'idle after start', '', p.idle.rssMb, p.idle.cpuPercent],
      [p.database, 'idle after the load', '', p.idleAfterLoad.rssMb, p.idleAfterLoad.cpuPercent]
    ])))
    for (const p of report.push) if (p.jobsStarted !== p.launchesReported) out.push(`\nWARNING (${p.database}): the simulator received ${p.jobsStarted} StartJobs but the door reported ${p.launchesReported} launches`)
  }
  if (report.imap !== null) {
    const i = report.imap
    out.push(`\nIMAP (Dovecot on loopback, PostgreSQL, full sweep every ${i.intervalS} s, ${i.messages} messages per folder; detection = stored − APPEND done):\n`)
    const s = (ms: number): string => (ms / 1000).toFixed(2)
    out.push(table(['server', 'folder', 'p50 s', 'p99 s', 'max s'], i.detection.flatMap((d) => [[d.server, 'INBOX (IDLE)', s(d.inbox.p50), s(d.inbox.p99), s(d.inbox.max)], [d.server, d.server === 'NOTIFY' ? 'Junk (NOTIFY)' : 'Junk (quiet-folder check)', s(d.junk.p50), s(d.junk.p99), s(d.junk.max)]])))
    out.push('')
    out.push(table(['saved', 'p50 s', 'max s'], [['a new mailbox → first sweep', s(i.pickup.created.p50), s(i.pickup.created.max)], ['new settings → first sweep with them', s(i.pickup.changed.p50), s(i.pickup.changed.max)]]))
    out.push('')
    out.push(table(['fault', 'stored after s'], i.faults.map((f) => [f.fault, f.seconds])))
    out.push('')
    if (i.takeover !== null) out.push(`Takeover: a second instance on the same PostgreSQL; the first (holding ${i.takeover.heldByFirst} of ${i.takeover.mailboxes} mailboxes) killed with SIGKILL; every mailbox swept by the second ${i.takeover.seconds} s later.\n`)
    out.push(table(['IMAP mailboxes', 'connected', 'RSS MB', `idle CPU % of a core (${i.idleS} s)`], i.mailboxes.map((b) => [b.count, b.connected, b.rssMb, b.cpuPercent])))
  }
  if (report.doors != null) {
    const d = report.doors
    out.push(`\nDetection by door (PostgreSQL, one message at a time; stored − handed over; Graph and its token endpoint are local stand-ins, delta pass every ${d.intervalS} s):\n`)
    out.push(table(['door', 'p50 ms', 'p99 ms', 'max ms'], d.doors.map((x) => [x.door, x.latency.p50, x.latency.p99, x.latency.max])))
  }
  if (report.rows != null) {
    out.push(`\nA spreadsheet to a queue robot (one DKIM-signed email, ${report.rows.rows} rows; POST → door answer with every row added at the simulator):\n`)
    out.push(table(['database', 'file', 'email KB', 'seconds', 'items added', 'BulkAdd requests'], report.rows.runs.map((r) => [r.database, r.file, Math.round(r.bytes / 1024), r.seconds, r.added, r.bulkRequests])))
  }
  if ((report.console ?? []).length > 0) {
    out.push('\nConsole pages (server time from a client on the same machine; messages over the last 7 days):\n')
    out.push(table(['database', 'messages', 'page', 'p50 ms', 'p95 ms', 'max ms', 'KB'], (report.console ?? []).flatMap((c) => c.pages.map((p) => [c.database, c.messages, p.page, p.p50Ms, p.p95Ms, p.maxMs, Math.round(p.bytes / 1024)]))))
  }
  if (report.alerts != null) {
    out.push(`\nAlerts: from a real cause to the signed delivery at the team's webhook (PostgreSQL, the background loops as shipped, MAILRUN_ALERT_AFTER_S=${report.alerts.afterS}):\n`)
    out.push(table(['event', 'cause', 'ms'], report.alerts.events.map((e) => [e.event, e.cause, e.ms ?? 'not told'])))
  }
  if (report.platforms != null) {
    out.push(`\nPlatforms: the same email to a robot on each, one at a time, ${report.platforms.emails} each; the door's answer includes the platform's start (PostgreSQL, stand-ins on this machine):\n`)
    out.push(table(['platform', 'launched', 'p50 ms', 'p95 ms', 'max ms', 'run end → completed ms'], report.platforms.platforms.map((p) => [p.platform, p.launched, p.p50, p.p95, p.max, p.endToReplyMs ?? ''])))
  }
  if (report.outcomes != null) {
    const o = report.outcomes
    const met = (ok: boolean): string => ok ? 'met' : 'MISSED'
    out.push('\nOutcomes without a webhook (PostgreSQL, MAILRUN_JOB_POLL_INTERVAL_S 15): from the door\'s answer to the launch recorded as ended:\n')
    out.push(table(['what', 'measured', 'goal', ''], [
      ['one job ending 1.2 s after it starts', `${o.one.recordedMs} ms`, `≤ ${o.one.goalMs} ms`, met(o.one.recordedMs <= o.one.goalMs)],
      ['twenty launched together: the last', `${o.twenty.lastRecordedMs} ms`, `≤ ${o.twenty.goalMs} ms`, met(o.twenty.lastRecordedMs <= o.twenty.goalMs)],
      ['requests to Orchestrator for the twenty', o.twenty.requests, `≤ ${o.twenty.goalRequests}`, met(o.twenty.requests <= o.twenty.goalRequests)],
      [`${o.running.jobs} running jobs, ${o.running.watchedS} s: collection reads in a calendar minute`, o.running.maxListReadsPerMinute, `≤ ${o.running.budget} (the budget)`, met(o.running.maxListReadsPerMinute <= o.running.budget)],
      ['… in any rolling minute', o.running.maxListReadsRollingMinute, '≤ 100 (UiPath\'s limit)', met(o.running.maxListReadsRollingMinute <= 100)],
      ['collection reads throttled (429)', o.running.throttled, '0', met(o.running.throttled === 0)]
    ]))
  }

  const targets = checkTargets(report)
  report.targets = targets
  if (targets.length > 0) {
    out.push('\nTargets:\n')
    out.push(table(['target', 'goal', 'measured', 'met'], targets.map((t) => [t.what, t.goal, t.measured, t.met ? 'yes' : 'NO'])))
  }
  return out.join('\n') + '\n'
}
