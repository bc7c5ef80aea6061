import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { DkimKey } from '../tests/support/mail.js'
import type { OrchestratorSimulator } from '../tests/support/orchestrator-simulator.js'
import { LoadGenerator, type LoadResult } from './support/load.js'
import type { MessageKind } from './support/messages.js'
import { idleSample, postgresCpuSeconds, startService, untilQuiet, withPeakRss, type ServiceProcess } from './support/processes.js'
import { freshDatabase, type DatabaseKind } from './support/targets.js'
import { LETTER, setUpTenant } from './support/tenant.js'
import { freePort } from '../tests/support/net.js'
import { repoRoot } from '../tests/support/process.js'
import { benchBig, type BigReport } from './big.js'

/** Below this share of a core, mailrun has finished what the steps before left it. */
const QUIET_PERCENT = 20
const QUIET_MAX_S = 90

export interface PushPlan {
  rates: number[]
  durationS: number
  concurrency: number
  /** Seconds the server is left alone before its idle RSS is read. */
  settleS: number
  mix: Array<{ kind: MessageKind, concurrency: number, maxMessages: number }>
  /** Measure the load at the saturation rate (off for `--only big`). */
  saturation: boolean
  /** Messages with a large attachment posted at once, and the attachment's size. */
  big: { messages: number, attachmentBytes: number }
  workDir: string
  /** Extra node flags for mailrun (the profile run passes --cpu-prof). */
  nodeArgs: string[]
  /** Small messages at this rate while 5 MB attachments are posted one at a time beside them (off: null). */
  alongside: { rate: number } | null
}

/**
 * `cpuMs` and `statements`: mailrun's whole process during the step (background work included), per
 * message answered. `pauses`: the event loop's longest delay during the step (how late a timer ran:
 * one long task, or under overload many short ones queued; prom-client samples it with a 10 ms
 * resolution) and the time garbage collection took, in all and in full (major) collections: what a
 * message waits for besides its own work.
 */
export interface Step { step: string, kind: MessageKind, rate: number | 'max', result: LoadResult, peakRssMb: number, perMessage?: { cpuMs: number, statements: number, /** PostgreSQL's own CPU, where it is the database. */ databaseCpuMs?: number }, pauses?: Pauses, /** Saturation: how long mailrun took to finish the steps before it. */ quietAfterS?: number }
export interface Pauses { loopDelayMaxMs: number, gcMs: number, gcMajorMs: number }

interface Counters { statements: number, gcMs: number, gcMajorMs: number, loopDelayMaxMs: number }

/** What mailrun's /metrics says of statements sent, garbage collection and the event loop (reading it starts a new event-loop maximum). */
async function readCounters (url: string): Promise<Counters> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN)
  const gcSeconds = [...text.matchAll(/^mailrun_nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} ([\d.e+-]+)/gm)]
  const ms = (seconds: number): number => Math.round(seconds * 1000)
  return {
    statements: value(/^mailrun_database_statements_total (\d+)/m),
    gcMs: ms(gcSeconds.reduce((sum, [, , seconds]) => sum + Number(seconds), 0)),
    gcMajorMs: ms(Number(gcSeconds.find(([, kind]) => kind === 'major')?.[2] ?? 0)),
    loopDelayMaxMs: ms(value(/^mailrun_nodejs_eventloop_lag_max_seconds ([\d.e+-]+)/m))
  }
}

/** Runs `work` and answers what the counters moved by meanwhile. */
async function counted<T> (url: string, work: () => Promise<T>): Promise<{ result: T, statements: number, pauses: Pauses }> {
  const before = await readCounters(url)
  const result = await work()
  const after = await readCounters(url)
  return { result, statements: after.statements - before.statements, pauses: { loopDelayMaxMs: after.loopDelayMaxMs, gcMs: after.gcMs - before.gcMs, gcMajorMs: after.gcMajorMs - before.gcMajorMs } }
}

export interface PushReport {
  database: DatabaseKind
  startup: Array<{ what: string, readyS: number, rssMb: number }>
  idle: { rssMb: number, cpuPercent: number }
  steps: Step[]
  idleAfterLoad: { rssMb: number, cpuPercent: number }
  big: BigReport
  /** Jobs the simulator received against launches the door reported: they must match. */
  jobsStarted: number
  launchesReported: number
}

export interface Shared { load: LoadGenerator, simulator: OrchestratorSimulator, smtpPort: number, dnsServers: string, key: DkimKey }

export const ADMIN_KEY = `mra_bench_${randomBytes(12).toString('hex')}`

/** The node flags `npm start` runs mailrun with (package.json), so the bench measures the same process; `--node-flags` replaces them. */
export function startFlags (): string[] {
  const script = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? ''
  return script.split(/\s+/).filter((word) => word.startsWith('--'))
}
let nodeFlags = startFlags()
export function useNodeFlags (flags: string[]): void { nodeFlags = flags }
export function currentNodeFlags (): string[] { return nodeFlags }

export async function startMailrun (kind: DatabaseKind, env: Record<string, string>, shared: Shared, workDir: string, nodeArgs: string[] = [], fixedPort?: number): Promise<{ service: ServiceProcess, readyS: number }> {
  const port = fixedPort ?? await freePort()
  const t0 = performance.now()
  const service = await startService('dist/src/server.js', {
    PORT: String(port),
    HOST: '127.0.0.1',
    MAILRUN_ADMIN_KEY: ADMIN_KEY,
    MAILRUN_OUTBOUND_DENY: 'none',
    MAILRUN_DNS_SERVERS: shared.dnsServers,
    ...env
  }, { port, logFile: path.join(workDir, `mailrun-${kind}.log`), readyPath: '/readyz', nodeArgs: [...nodeFlags, ...nodeArgs] })
  return { service, readyS: Math.round((performance.now() - t0) / 100) / 10 }
}

export async function benchPush (kind: DatabaseKind, plan: PushPlan, shared: Shared, report: (line: string) => void): Promise<PushReport> {
  const database = await freshDatabase(kind)
  const startup: PushReport['startup'] = []
  try {
    let { service, readyS } = await startMailrun(kind, database.env, shared, plan.workDir, plan.nodeArgs)
    startup.push({ what: 'first start (migrations)', readyS, rssMb: service.rssMb() })
    if (kind === 'pglite') {
      // What a user meets after the first day: the data directory opened again.
      await service.stop();
      ({ service, readyS } = await startMailrun(kind, database.env, shared, plan.workDir, plan.nodeArgs))
      startup.push({ what: 'reopened data dir', readyS, rssMb: service.rssMb() })
    }
    report(`${kind}: ready in ${readyS} s; idle for ${plan.settleS} s`)
    const idle = await idleSample(service, plan.settleS)

    const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: shared.simulator.url, smtpPort: shared.smtpPort })
    const jobsBefore = shared.simulator.jobs.length
    let launchesReported = 0
    const steps: Step[] = []
    const onPostgres = kind === 'postgres'
    const run = async (step: string, kind: MessageKind, rate: number | undefined, concurrency: number, maxMessages: number, options: { durationS?: number, quietAfterS?: number } = {}): Promise<void> => {
      const durationS = options.durationS ?? plan.durationS
      const cpu = cpuFrom(service, onPostgres)
      const { result: { result, peakRssMb }, statements, pauses } = await counted(service.url, async () => await withPeakRss(service, async () => await shared.load.run({ url: tenant.mimeUrl, kind, letter: LETTER, key: shared.key, rate, durationS, concurrency, maxMessages, tag: `${step}-${randomBytes(3).toString('hex')}` })))
      const answered = Math.max(1, result.completed)
      const perMessage = { ...cpu.perMessage(answered), statements: Math.round(statements / answered * 100) / 100 }
      launchesReported += result.outcomes['accepted launched'] ?? 0
      if (step !== 'warm-up') steps.push({ step, kind, rate: rate ?? 'max', result, peakRssMb, perMessage, pauses, ...(options.quietAfterS !== undefined ? { quietAfterS: options.quietAfterS } : {}) })
      report(`${kind.padEnd(10)} ${String(rate ?? 'max').padStart(5)} msg/s: ${result.throughput} msg/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${JSON.stringify(result.outcomes)}, peak RSS ${peakRssMb} MB, per message ${perMessage.cpuMs} ms CPU${perMessage.databaseCpuMs !== undefined ? ` (PostgreSQL ${perMessage.databaseCpuMs} ms)` : ''} and ${perMessage.statements} statements, event-loop delay at most ${pauses.loopDelayMaxMs} ms, GC ${pauses.gcMs} ms (full ${pauses.gcMajorMs} ms)`)
    }
    await run('warm-up', 'small', 100, 64, 0, { durationS: Math.min(3, plan.durationS) })
    for (const rate of plan.rates) await run(`${rate}/s`, 'small', rate, 256, 0)
    if (plan.saturation) {
      // The 1,000/s step leaves thousands of launches to look at and answer: saturation is measured
      // once that is done, or it measures the backlog as much as the door.
      const waitedS = await untilQuiet(service, { belowPercent: QUIET_PERCENT, maxS: QUIET_MAX_S })
      report(`${kind}: mailrun quiet (under ${QUIET_PERCENT} % of a core) after ${waitedS} s`)
      await run('saturation', 'small', undefined, plan.concurrency, Math.max(200, Math.ceil(plan.durationS * 1500)), { quietAfterS: waitedS })
    }
    for (const m of plan.mix) await run(`mix ${m.kind}`, m.kind, undefined, m.concurrency, m.maxMessages)
    if (plan.alongside !== null) {
      const both = await alongside(service, tenant.mimeUrl, plan, shared)
      for (const step of both) launchesReported += step.result.outcomes['accepted launched'] ?? 0
      steps.push(...both)
    }
    const idleAfterLoad = await idleSample(service, plan.settleS)
    const big = await benchBig(service, tenant.mimeUrl, plan.big)
    report(`big: ${big.messages} × ${big.messageMb} MB at once: answers ${big.answersMs.join(', ')} ms (${big.statuses.join(', ')}), /healthz max ${big.healthzMaxMs} ms over ${big.healthzChecks} checks, RSS ${big.idleRssMb} → ${big.peakRssMb} MB`)
    await service.stop()
    return { database: kind, startup, idle, steps, idleAfterLoad, big, jobsStarted: shared.simulator.jobs.length - jobsBefore, launchesReported }
  } finally {
    await database.drop()
  }
}

/**
 * Small messages at a fixed rate while messages with a 5 MB attachment are posted, one at a time,
 * from a second load generator: how much a large message in the mix delays the small ones.
 */
async function alongside (service: ServiceProcess, url: string, plan: PushPlan, shared: Shared): Promise<Step[]> {
  const rate = plan.alongside?.rate ?? 50
  const second = new LoadGenerator()
  try {
    const { result: { result: [small, large], peakRssMb }, pauses } = await counted(service.url, async () => await withPeakRss(service, async () => await Promise.all([
      shared.load.run({ url, kind: 'small', letter: LETTER, key: shared.key, rate, durationS: plan.durationS, concurrency: 64, maxMessages: 0, tag: `alongside-small-${randomBytes(3).toString('hex')}` }),
      second.run({ url, kind: 'attachment', letter: LETTER, key: shared.key, durationS: plan.durationS, concurrency: 1, maxMessages: Math.max(2, plan.durationS * 2), tag: `alongside-large-${randomBytes(3).toString('hex')}` })
    ])))
    return [
      { step: 'small beside attachments', kind: 'small', rate, result: small, peakRssMb, pauses },
      { step: 'attachments beside small', kind: 'attachment', rate: 'max', result: large, peakRssMb, pauses }
    ]
  } finally {
    second.close()
  }
}

/** Milliseconds a message, two decimals. */
const msPer = (seconds: number, messages: number): number => Math.round(seconds * 1000 / messages * 100) / 100

/** The service's CPU from now on, and PostgreSQL's where it is the database: `perMessage` divides what was spent since by the messages answered. */
function cpuFrom (service: ServiceProcess, onPostgres: boolean): { perMessage: (answered: number) => { cpuMs: number, databaseCpuMs?: number } } {
  const serviceBefore = service.cpuSeconds()
  const databaseBefore = onPostgres ? postgresCpuSeconds() : null
  return {
    perMessage (answered) {
      const cpuMs = msPer(service.cpuSeconds() - serviceBefore, answered)
      const databaseAfter = databaseBefore === null ? null : postgresCpuSeconds()
      // A connection closed meanwhile takes its backend's CPU with it: no figure rather than a wrong one.
      return databaseBefore !== null && databaseAfter !== null && databaseAfter >= databaseBefore ? { cpuMs, databaseCpuMs: msPer(databaseAfter - databaseBefore, answered) } : { cpuMs }
    }
  }
}

export type Baseline = 'parse' | 'insert' | 'essential'
export interface BaselineReport {
  baseline: Baseline
  database: DatabaseKind | null
  /** At saturation. */
  result: LoadResult
  /** The essential route at 200 msg/s, to hold mailrun's p99 there against. */
  at200?: LoadResult
  /** The route's own CPU a message answered, at saturation: steadier than throughput on a shared machine. */
  cpuMsPerMessage?: number
  /** PostgreSQL's CPU a message answered, at saturation, where it is the database. */
  databaseCpuMsPerMessage?: number
}

/** The plain limits: a bare route that parses (one that also stores; one that does only the essential work), at saturation, small messages. */
export async function benchBaseline (baseline: Baseline, kind: DatabaseKind | null, plan: PushPlan, shared: Shared): Promise<BaselineReport> {
  const database = kind !== null ? await freshDatabase(kind) : null
  try {
    const port = await freePort()
    const env = { PORT: String(port), BASELINE: baseline, SIMULATOR_URL: shared.simulator.url, MAILRUN_DNS_SERVERS: shared.dnsServers, ...(database?.env ?? {}) }
    // Profiled with mailrun when asked (--cpu-prof), in a directory of its own: tsx's loader
    // thread writes a profile too (the main thread's is the one with thread id 0 in its name).
    const profileDir = plan.nodeArgs.find((arg) => arg.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length) ?? plan.workDir
    const profile = plan.nodeArgs.includes('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, `baseline-${baseline}-${kind ?? 'none'}`)}`] : []
    const service = await startService('bench/baseline-server.ts', env, { port, logFile: path.join(plan.workDir, `baseline-${baseline}.log`), readyPath: '/ready', nodeArgs: ['--import', 'tsx', ...profile] })
    const url = `${service.url}/inbound`
    await shared.load.run({ url, kind: 'small', letter: LETTER, key: shared.key, rate: 100, durationS: Math.min(3, plan.durationS), concurrency: 64, maxMessages: 0, tag: 'baseline-warm-up' })
    const at200 = baseline === 'essential' && plan.rates.includes(200)
      ? await shared.load.run({ url, kind: 'small', letter: LETTER, key: shared.key, rate: 200, durationS: plan.durationS, concurrency: 256, maxMessages: 0, tag: `baseline-${baseline}-200` })
      : undefined
    const cpu = cpuFrom(service, kind === 'postgres')
    const result = await shared.load.run({ url, kind: 'small', letter: LETTER, key: shared.key, durationS: plan.durationS, concurrency: plan.concurrency, maxMessages: 500, cycle: true, tag: `baseline-${baseline}` })
    const { cpuMs, databaseCpuMs } = cpu.perMessage(Math.max(1, result.completed))
    await service.stop()
    return { baseline, database: kind, result, cpuMsPerMessage: cpuMs, ...(databaseCpuMs !== undefined ? { databaseCpuMsPerMessage: databaseCpuMs } : {}), ...(at200 !== undefined ? { at200 } : {}) }
  } finally {
    await database?.drop()
  }
}
