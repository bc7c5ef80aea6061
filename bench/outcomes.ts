import { startOrchestratorSimulator, type OrchestratorSimulator } from '../src/simulator/orchestrator.js'
import { buildMessage, signMessage } from '../tests/support/mail.js'
import { freshDatabase } from './support/targets.js'
import { COMMAND, LETTER, setUpTenant, type BenchTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

// How soon a job's end is known without an Orchestrator webhook (#32): mailrun as its own process
// on PostgreSQL, with its loops as shipped and MAILRUN_JOB_POLL_INTERVAL_S at its default (15 s).
// Timed from the door's answer (the job started) to the launch recorded as ended, read through the
// API: one job that ends 1.2 s after it starts, then twenty launched together (and how many
// requests Orchestrator got for them). Then jobs that keep running: how many collection reads
// Orchestrator gets in any minute (the per-tenant budget, 30 by default; UiPath allows 100), and
// whether any was throttled.

export interface OutcomesPlan { running: number, watchS: number, workDir: string }
export interface OutcomesReport {
  one: { recordedMs: number, goalMs: number }
  twenty: { lastRecordedMs: number, goalMs: number, requests: number, goalRequests: number }
  /** Collection reads in a calendar minute (how the budget counts) and in any rolling minute (how UiPath counts its 100). */
  running: { jobs: number, watchedS: number, maxListReadsPerMinute: number, maxListReadsRollingMinute: number, budget: number, throttled: number }
}

const JOB_MS = 1_200
const BUDGET = 30

async function until (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`bench outcomes: ${what} did not happen within ${timeoutMs / 1000} s`)
    // The API allows a key 600 requests a minute: a look every 50 ms (what the times can be late by).
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function benchOutcomes (plan: OutcomesPlan, shared: Shared, log: (line: string) => void): Promise<OutcomesReport> {
  let n = 0
  const send = async (tenant: BenchTenant): Promise<{ answeredAt: number, launchId: string }> => {
    const raw = await signMessage(buildMessage({ from: LETTER.from, subject: LETTER.subject, body: COMMAND, messageId: `<outcomes-${n++}-${Date.now()}@finance.example>` }), shared.key)
    const res = await fetch(tenant.mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw })
    const answer = await res.json() as { launch?: { id?: string, state?: string } }
    if (answer.launch?.state !== 'launched') throw new Error(`bench outcomes: the door answered ${JSON.stringify(answer)}`)
    return { answeredAt: performance.now(), launchId: String(answer.launch.id) }
  }
  const ended = async (tenant: BenchTenant, launchId: string): Promise<boolean> => (await tenant.api.call('GET', `/api/v1/launches/${launchId}`)).state === 'completed'

  const withMailrun = async <T>(sim: OrchestratorSimulator, run: (tenant: BenchTenant) => Promise<T>): Promise<T> => {
    const database = await freshDatabase('postgres')
    const { service } = await startMailrun('postgres', { ...database.env, MAILRUN_ORCHESTRATOR_LIST_READS_PER_MINUTE: String(BUDGET) }, shared, plan.workDir)
    try {
      return await run(await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: sim.url, smtpPort: shared.smtpPort }))
    } finally {
      await service.stop()
      await database.drop()
    }
  }

  // Jobs that end 1.2 s after they start.
  const short = await startOrchestratorSimulator({ processes: ['MonthlyReport'], autoFinishMs: JOB_MS, autoFinish: { state: 'Successful', output: { out_Total: 1 } } })
  let one: OutcomesReport['one']
  let twenty: OutcomesReport['twenty']
  try {
    ({ one, twenty } = await withMailrun(short, async (tenant) => {
      const first = await send(tenant)
      await until('the one job recorded', async () => await ended(tenant, first.launchId), 30_000)
      const oneMs = Math.round(performance.now() - first.answeredAt)
      log(`one job ending ${JOB_MS / 1000} s after it starts: recorded ${oneMs} ms after the door's answer (goal ≤ 3000)`)
      const before = short.requests.length
      const sent = await Promise.all(Array.from({ length: 20 }, async () => await send(tenant)))
      const lastAnswer = Math.max(...sent.map((s) => s.answeredAt))
      const ids = new Set(sent.map((s) => s.launchId))
      await until('twenty jobs recorded', async () => ((await tenant.api.call('GET', '/api/v1/launches?state=completed&limit=50')).items as Array<{ id: string }>).filter((l) => ids.has(l.id)).length === ids.size, 60_000)
      const lastMs = Math.round(performance.now() - lastAnswer)
      const requests = short.requests.length - before
      log(`twenty launched together: the last recorded ${lastMs} ms after the last answer (goal ≤ 8000); ${requests} requests to Orchestrator (goal ≤ 100)`)
      return { one: { recordedMs: oneMs, goalMs: 3_000 }, twenty: { lastRecordedMs: lastMs, goalMs: 8_000, requests, goalRequests: 100 } }
    }))
  } finally {
    await short.close()
  }

  // Jobs that keep running, against a simulator that throttles as UiPath Cloud does (100 collection reads a rolling minute).
  const long = await startOrchestratorSimulator({ processes: ['MonthlyReport'], listReadsPerMinute: 100 })
  try {
    const running = await withMailrun(long, async (tenant) => {
      for (let at = 0; at < plan.running; at += 20) await Promise.all(Array.from({ length: Math.min(20, plan.running - at) }, async () => await send(tenant)))
      const started = Date.now()
      await new Promise((resolve) => setTimeout(resolve, plan.watchS * 1000))
      const lists = long.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/odata/Jobs') && r.at >= started).map((r) => r.at)
      let rolling = 0
      for (let i = 0; i < lists.length; i++) {
        const from = lists[i] as number
        let j = i
        while (j < lists.length && (lists[j] as number) < from + 60_000) j++
        rolling = Math.max(rolling, j - i)
      }
      const perMinute = new Map<number, number>()
      for (const at of lists) perMinute.set(Math.floor(at / 60_000), (perMinute.get(Math.floor(at / 60_000)) ?? 0) + 1)
      const max = Math.max(0, ...perMinute.values())
      log(`${plan.running} running jobs watched ${plan.watchS} s: at most ${max} collection reads in a calendar minute (budget ${BUDGET}), ${rolling} in a rolling one (UiPath: 100), ${long.throttled} throttled`)
      return { jobs: plan.running, watchedS: plan.watchS, maxListReadsPerMinute: max, maxListReadsRollingMinute: rolling, budget: BUDGET, throttled: long.throttled }
    })
    return { one, twenty, running }
  } finally {
    await long.close()
  }
}
